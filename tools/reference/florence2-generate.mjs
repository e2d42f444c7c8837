#!/usr/bin/env node
// Reference for Florence-2: transformers.js 4.3.1 Florence2ForConditionalGeneration, greedy, one
// (image, task) at a time, offline, on a local bundle; the bundle's generation config otherwise
// (forced BOS/EOS, no_repeat_ngram_size), num_beams forced to 1.
//
//   node tools/reference/florence2-generate.mjs --model DIR --queries FILE.csv [--max-new-tokens 20]
//
// FILE.csv: image_path,task (absolute paths; task a Florence-2 task token such as <CAPTION> or <OCR>,
// or free text). stdout: ONE JSON document
//   [{"image": path, "task": t, "token_ids": [...generated after the decoder start token, EOS included...],
//     "text": post_process_generation(batch_decode(ids, {skip_special_tokens: false}))[task]}]
import fs from 'node:fs';
import process from 'node:process';

console.log = (...a) => console.error(...a);
const { AutoProcessor, Florence2ForConditionalGeneration, RawImage, env } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const model_dir = opt('--model');
const maxNew = Number(opt('--max-new-tokens', '20'));
const queries = fs.readFileSync(opt('--queries'), 'utf8').trim().split('\n').slice(1).map(l => {
    const i = l.indexOf(',');
    return [l.slice(0, i), l.slice(i + 1)];
});

const processor = await AutoProcessor.from_pretrained(model_dir);
const model = await Florence2ForConditionalGeneration.from_pretrained(model_dir, { dtype: 'fp32' });

const out = [];
for (const [image_path, task] of queries) {
    const image = await RawImage.read(image_path);
    const inputs = await processor(image, task);
    const ids = await model.generate({ ...inputs, max_new_tokens: maxNew, num_beams: 1, do_sample: false });
    const text = processor.batch_decode(ids, { skip_special_tokens: false })[0];
    const answer = processor.post_process_generation(text, task, image.size)[task];
    out.push({ image: image_path, task, token_ids: Array.from(ids.data, Number).slice(1),
               text: typeof answer === 'string' ? answer : JSON.stringify(answer) });
}
process.stdout.write(JSON.stringify(out));
