#!/usr/bin/env node
// Reference for Florence-2's answer post-processing: transformers.js 4.3.1
// Florence2Processor.post_process_generation on given texts, with the bundle's processor config
// (its tasks_answer_post_processing_type map). No model is run.
//
//   node tools/reference/florence2-postprocess.mjs --model DIR --cases FILE.json
//
// FILE.json: [{"text": decoded answer, "task": task token, "width": W, "height": H}, ...]
// stdout: ONE JSON array, per case {"answer": post_process_generation(text, task, [W, H])[task]}
// (a string for pure-text tasks, else {labels, bboxes | quad_boxes}), or {"error": message} where
// transformers.js throws. [W, H] is what RawImage's `size` is, as florence2-generate.mjs passes it.
import fs from 'node:fs';
import process from 'node:process';

console.log = (...a) => console.error(...a);
const { AutoProcessor, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/';

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const processor = await AutoProcessor.from_pretrained(opt('--model'));
const cases = JSON.parse(fs.readFileSync(opt('--cases'), 'utf8'));

const out = cases.map(({ text, task, width, height }) => {
    try {
        return { answer: processor.post_process_generation(text, task, [width, height])[task] };
    } catch (e) {
        return { error: String(e.message ?? e) };
    }
});
process.stdout.write(JSON.stringify(out));
