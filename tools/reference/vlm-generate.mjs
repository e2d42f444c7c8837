#!/usr/bin/env node
// Reference for the decoder-only families (SmolVLM / Idefics3, moondream2): transformers.js 4.3.1
// greedy generation, one (image, question) at a time, offline, on a local bundle.
//
//   node tools/reference/vlm-generate.mjs --model DIR --family smolvlm|moondream2 --queries FILE.csv
//        [--max-new-tokens 16] [--image-tokens N (moondream2: <image> positions, one per feature row)]
//
// FILE.csv: image_path,question (absolute paths). stdout: ONE JSON document
//   [{"image": path, "question": q, "token_ids": [...generated, EOS included...], "text": "..."}]
import fs from 'node:fs';
import process from 'node:process';

console.log = (...a) => console.error(...a);
const { AutoProcessor, AutoTokenizer, AutoModelForVision2Seq, Moondream1ForConditionalGeneration, RawImage, env } =
    await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const model_dir = opt('--model');
const family = opt('--family');
const maxNew = Number(opt('--max-new-tokens', '16'));
const imageTokens = Number(opt('--image-tokens', '0'));
const queries = fs.readFileSync(opt('--queries'), 'utf8').trim().split('\n').slice(1).map(l => {
    const i = l.indexOf(',');
    return [l.slice(0, i), l.slice(i + 1)];
});

const processor = await AutoProcessor.from_pretrained(model_dir);
const tokenizer = family === 'moondream2' ? await AutoTokenizer.from_pretrained(model_dir) : processor.tokenizer;
const model = family === 'moondream2'
    ? await Moondream1ForConditionalGeneration.from_pretrained(model_dir, { dtype: 'fp32' })
    : await AutoModelForVision2Seq.from_pretrained(model_dir, { dtype: 'fp32' });

const out = [];
for (const [image_path, question] of queries) {
    const image = await RawImage.read(image_path);
    let inputs;
    if (family === 'moondream2') {
        const text = '<image>'.repeat(imageTokens) + `\n\nQuestion: ${question}\n\nAnswer:`;
        inputs = { ...tokenizer(text), ...(await processor(image)) };
    } else {
        const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: question }] }];
        const text = processor.apply_chat_template(messages, { add_generation_prompt: true });
        inputs = await processor(text, [image]);
    }
    const ids = await model.generate({ ...inputs, max_new_tokens: maxNew, do_sample: false });
    const n = inputs.input_ids.dims[1];
    const gen = ids.slice(null, [n, null]);
    out.push({ image: image_path, question, token_ids: Array.from(gen.data, Number),
               text: tokenizer.batch_decode(gen, { skip_special_tokens: true })[0].trim() });
}
process.stdout.write(JSON.stringify(out));
