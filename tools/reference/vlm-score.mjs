#!/usr/bin/env node
// Reference for closed-choice scoring of the decoder-only families (SmolVLM / Idefics3, moondream2):
// transformers.js 4.3.1 teacher-forced log-probabilities, offline, on a local bundle. For each case and
// each choice, ONE full forward pass (no KV cache) over prompt + choice tokens; the choice's score is
// the sum of log_softmax(logits) at each of its tokens, in double precision. The choice's tokens are
// tokenizer(' ' + choice, {add_special_tokens: false}) then the first eos_token_id of the generation
// config: the sequence the model would generate to answer exactly that.
//
//   node tools/reference/vlm-score.mjs --model DIR --family smolvlm|moondream2 --cases FILE.json
//        [--image-tokens N (moondream2: <image> positions, one per feature row)]
//
// FILE.json: [{"images": [absolute paths, one or more (several: SmolVLM only)], "question": "...",
//              "choices": ["red", "dark red", ...]}]
// stdout: ONE JSON document, one entry per case:
//   [{"question", "prompt_ids": [...the prompt's input_ids...], "choice_ids": [[...], ...],
//     "log_probs": [...one per choice...]}]
import fs from 'node:fs';
import process from 'node:process';

console.log = (...a) => console.error(...a);
const { AutoProcessor, AutoTokenizer, AutoModelForVision2Seq, Moondream1ForConditionalGeneration, RawImage, Tensor, env } =
    await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const model_dir = opt('--model');
const family = opt('--family');
const imageTokens = Number(opt('--image-tokens', '0'));
const cases = JSON.parse(fs.readFileSync(opt('--cases'), 'utf8'));

const processor = await AutoProcessor.from_pretrained(model_dir);
const tokenizer = family === 'moondream2' ? await AutoTokenizer.from_pretrained(model_dir) : processor.tokenizer;
const model = family === 'moondream2'
    ? await Moondream1ForConditionalGeneration.from_pretrained(model_dir, { dtype: 'fp32' })
    : await AutoModelForVision2Seq.from_pretrained(model_dir, { dtype: 'fp32' });
const eos = [model.generation_config.eos_token_id].flat()[0];

function logSoftmaxAt(data, offset, vocab, token) {
    let max = -Infinity;
    for (let v = 0; v < vocab; ++v) max = Math.max(max, data[offset + v]);
    let sum = 0;
    for (let v = 0; v < vocab; ++v) sum += Math.exp(data[offset + v] - max);
    return data[offset + token] - max - Math.log(sum);
}

const out = [];
for (const c of cases) {
    const images = await Promise.all(c.images.map((p) => RawImage.read(p)));
    let inputs;
    if (family === 'moondream2') {
        if (images.length !== 1) throw new Error('moondream2 takes one image');
        const text = '<image>'.repeat(imageTokens) + `\n\nQuestion: ${c.question}\n\nAnswer:`;
        inputs = { ...tokenizer(text), ...(await processor(images[0])) };
    } else {
        const content = [...images.map(() => ({ type: 'image' })), { type: 'text', text: c.question }];
        const text = processor.apply_chat_template([{ role: 'user', content }], { add_generation_prompt: true });
        inputs = await processor(text, images);
    }
    const prompt = Array.from(inputs.input_ids.data, Number);
    const choice_ids = [];
    const log_probs = [];
    for (const choice of c.choices) {
        const ids = [...tokenizer(' ' + choice.trim(), { add_special_tokens: false }).input_ids.data].map(Number);
        ids.push(eos);
        const fed = [...prompt, ...ids.slice(0, -1)];
        const input_ids = new Tensor('int64', BigInt64Array.from(fed.map(BigInt)), [1, fed.length]);
        const attention_mask = new Tensor('int64', new BigInt64Array(fed.length).fill(1n), [1, fed.length]);
        const { logits } = await model({ ...inputs, input_ids, attention_mask });
        const [, seq, vocab] = logits.dims;
        if (seq !== fed.length) throw new Error(`logits for ${seq} of ${fed.length} positions`);
        let sum = 0;
        for (let k = 0; k < ids.length; ++k) {
            sum += logSoftmaxAt(logits.data, (prompt.length - 1 + k) * vocab, vocab, ids[k]);
        }
        choice_ids.push(ids);
        log_probs.push(sum);
    }
    out.push({ question: c.question, prompt_ids: prompt, choice_ids, log_probs });
}
process.stdout.write(JSON.stringify(out));
