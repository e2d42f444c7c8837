#!/usr/bin/env node
// transformers.js 4.3.1 leg of bench/throughput.sh for a SmolVLM (Idefics3) bundle: the same images,
// the same prompt, max_new_tokens new tokens with EOS never stopping generation (eos_token_id = null),
// fp32, one image at a time (its pipeline's way), intra-op threads as given. Model load excluded.
//   node bench/tjs-vlm-bench.mjs --model DIR --images-file LIST --prompt TEXT --max-new-tokens N
//        [--threads T] [--warmup 1]
// stderr: "[timing] images=N images_per_s=X ms_per_image=Y tokens_per_s=Z peak_rss_mib=R"
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

console.log = (...a) => console.error(...a);
const here = path.dirname(fileURLToPath(import.meta.url));
const { AutoProcessor, AutoModelForVision2Seq, RawImage, env } =
    await import(path.join(here, '../tools/reference/node_modules/@huggingface/transformers/dist/transformers.node.mjs'));
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const modelDir = path.resolve(opt('--model'));
const images = fs.readFileSync(opt('--images-file'), 'utf8').trim().split('\n');
const prompt = opt('--prompt', 'Can you describe this image?');
const maxNew = Number(opt('--max-new-tokens', '32'));
const threads = opt('--threads', null);
const warmup = Number(opt('--warmup', '1'));

const session_options = threads ? { intraOpNumThreads: Number(threads), interOpNumThreads: 1 } : {};
const processor = await AutoProcessor.from_pretrained(modelDir);
const model = await AutoModelForVision2Seq.from_pretrained(modelDir, { dtype: 'fp32', session_options });

async function one(file) {
    const image = await RawImage.read(file);
    const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: prompt }] }];
    const text = processor.apply_chat_template(messages, { add_generation_prompt: true });
    const inputs = await processor(text, [image]);
    const ids = await model.generate({ ...inputs, max_new_tokens: maxNew, do_sample: false, eos_token_id: null });
    return ids.dims[1] - inputs.input_ids.dims[1];
}

for (let i = 0; i < warmup; i++) await one(images[0]);
const t0 = performance.now();
let tokens = 0;
for (const file of images) tokens += await one(file);
const ms = performance.now() - t0;
const rss = process.resourceUsage().maxRSS / 1024;
console.error(`[timing] images=${images.length} images_per_s=${(images.length * 1000 / ms).toFixed(3)} ` +
    `ms_per_image=${(ms / images.length).toFixed(1)} tokens_per_s=${(tokens * 1000 / ms).toFixed(2)} ` +
    `tokens=${tokens} peak_rss_mib=${rss.toFixed(0)}`);
