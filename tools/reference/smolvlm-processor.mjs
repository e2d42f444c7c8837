#!/usr/bin/env node
// Reference for the SmolVLM (Idefics3) *processor*: what transformers.js 4.3.1's own
// AutoProcessor + apply_chat_template produce for one user message with one image and a
// question, offline, on a folder with the model's configs and tokenizer (no weights needed).
//
//   node tools/reference/smolvlm-processor.mjs --model DIR [--prompt "..."] [--dump DIR] [--batch] IMG...
//
// stdout: ONE JSON document, an array with one entry per image:
//   {"image", "prompt" (the rendered chat template, before <image> expansion), "input_ids",
//    "pixel_values_shape" [1, crops, 3, H, W], "rows", "cols", "crop_sums" (sum of each crop's floats),
//    "pixel_values_sample" (first 16 floats of each crop), "pixel_attention_mask_sums" (true
//    pixels per crop), "dump" (raw little-endian float32 pixel values when --dump DIR is given)}
// With --batch the images are also run through the image processor as ONE batch (one image per
// sample; the processor cannot batch prompts of different lengths) and a last entry {"batch": true, "pixel_values_shape", "pixel_attention_mask_sums", "dump"} is added.
// Everything else goes to stderr.

import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
console.debug = (...args) => console.error(...args);

const USAGE = `usage: node tools/reference/smolvlm-processor.mjs --model DIR [--prompt TEXT] [--dump DIR] [--batch] IMG...`;

function die(msg) {
    console.error(`smolvlm-processor.mjs: ${msg}\n${USAGE}`);
    process.exit(2);
}

const opts = { model: null, prompt: 'Can you describe this image?', dump: null, batch: false, images: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
        if (i + 1 >= argv.length) die(`${a} needs a value`);
        return argv[++i];
    };
    if (a === '--model') opts.model = next();
    else if (a === '--prompt') opts.prompt = next();
    else if (a === '--dump') opts.dump = next();
    else if (a === '--batch') opts.batch = true;
    else if (a === '-h' || a === '--help') {
        console.error(USAGE);
        process.exit(0);
    } else if (a.startsWith('--')) die(`unknown option ${a}`);
    else opts.images.push(a);
}
if (!opts.model) die('--model is required');
if (opts.images.length === 0) die('no images');

const base = new URL('./node_modules/', import.meta.url);
const { env, AutoProcessor, RawImage } = await import(
    new URL('@huggingface/transformers/dist/transformers.node.mjs', base)
);
const bundle = path.resolve(opts.model);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(bundle);
const name = path.basename(bundle);
const modelId = /^[A-Za-z0-9][\w.-]*$/.test(name) ? name : bundle;
const processor = await AutoProcessor.from_pretrained(modelId, { local_files_only: true });

const messages = (question) => [
    {
        role: 'user',
        content: [{ type: 'image' }, { type: 'text', text: question }],
    },
];

function summarize(pixel_values, pixel_attention_mask, dumpName) {
    const dims = pixel_values.dims; // [B, crops, 3, H, W]
    const data = pixel_values.data;
    const crops = dims[0] * dims[1];
    const per = dims.slice(2).reduce((x, y) => x * y, 1);
    const crop_sums = [];
    const pixel_values_sample = [];
    const mask_sums = [];
    const mask = pixel_attention_mask.data;
    const perMask = dims[3] * dims[4];
    for (let c = 0; c < crops; ++c) {
        let s = 0;
        for (let i = c * per; i < (c + 1) * per; ++i) s += data[i];
        crop_sums.push(s);
        pixel_values_sample.push(Array.from(data.subarray(c * per, c * per + 16)));
        let m = 0;
        for (let i = c * perMask; i < (c + 1) * perMask; ++i) m += mask[i] ? 1 : 0;
        mask_sums.push(m);
    }
    let dump = null;
    if (opts.dump) {
        fs.mkdirSync(opts.dump, { recursive: true });
        dump = path.resolve(opts.dump, dumpName);
        fs.writeFileSync(dump, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    return { pixel_values_shape: dims, crop_sums, pixel_values_sample, pixel_attention_mask_sums: mask_sums, dump };
}

const out = [];
const prompt = processor.apply_chat_template(messages(opts.prompt), { add_generation_prompt: true });
const raws = [];
for (let k = 0; k < opts.images.length; ++k) {
    const img = opts.images[k];
    const image = await RawImage.read(img);
    raws.push(image);
    const inputs = await processor(prompt, image);
    const ids = Array.from(inputs.input_ids.data, (x) => Number(x));
    out.push({
        image: img,
        width: image.width,
        height: image.height,
        prompt,
        input_ids: ids,
        rows: inputs.rows[0][0],
        cols: inputs.cols[0][0],
        ...summarize(inputs.pixel_values, inputs.pixel_attention_mask, `pixel_values_${k}.f32`),
    });
}
if (opts.batch) {
    // Idefics3Processor itself cannot batch prompts of different lengths (its tokenizer call
    // has no padding), so the batch goes through its image processor only.
    const inputs = await processor.image_processor(
        raws.map((r) => [r]),
        { return_row_col_info: true },
    );
    out.push({
        batch: true,
        rows: inputs.rows.map((r) => r[0]),
        cols: inputs.cols.map((c) => c[0]),
        ...summarize(inputs.pixel_values, inputs.pixel_attention_mask, 'pixel_values_batch.f32'),
    });
}
process.stdout.write(JSON.stringify(out) + '\n');
