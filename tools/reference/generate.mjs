#!/usr/bin/env node
// Reference captioner: transformers.js (@huggingface/transformers, pinned in
// package.json) running a local VisionEncoderDecoder ONNX bundle on CPU, greedy,
// one image at a time (exactly what the image-to-text pipeline does).
//
// stdout: ONE JSON document
//   [{"image": path, "token_ids": [...], "text": "...", "pipeline_text": "..."}]
// everything else (warnings, generation config, timing, traces) goes to stderr.
//
// See README.md in this folder for usage and for the notes on what
// transformers.js does under the hood.

import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

// transformers.js logs info/debug with console.log (stdout). Keep stdout for
// the JSON result only: route console.log/info/debug to stderr before loading it.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
console.debug = (...args) => console.error(...args);

const USAGE = `usage: node tools/reference/generate.mjs --model /abs/path/to/bundle [options] [--images-file list.txt | IMG ...]

options:
  --model DIR            model bundle folder (config.json, generation_config.json,
                         preprocessor_config.json, tokenizer files, onnx/encoder_model.onnx,
                         onnx/decoder_model_merged.onnx)
  --max-new-tokens N     tokens to generate per image (default 20)
  --images-file FILE     text file with one image path per line (blank lines and
                         lines starting with # are skipped); may be combined with IMG args
  --ignore-eos           generate exactly N tokens: EOS logits are masked to -inf until
                         N new tokens exist (transformers.js min_new_tokens = N)
  --no-eos-stop          generate exactly N tokens: EOS may be emitted but does not stop
                         generation (eos_token_id = null); alternative to --ignore-eos
  --timing               print images/s, ms/image (model load excluded) and peak RSS to stderr
  --warmup K             run the first image K extra times before the timed run (not output)
  --intra-op-threads T   ORT intra-op threads for both sessions (default: ORT default)
  --trace-feeds          print, for the first image, every session.run feed/output
                         (name, dtype, dims) to stderr
  -h, --help             this text`;

function die(msg) {
    console.error(`generate.mjs: ${msg}`);
    console.error(USAGE);
    process.exit(2);
}

function parseArgs(argv) {
    const opts = {
        model: null,
        maxNewTokens: 20,
        imagesFile: null,
        images: [],
        ignoreEos: false,
        noEosStop: false,
        timing: false,
        warmup: 0,
        intraOpThreads: null,
        traceFeeds: false,
    };
    const needValue = (i, flag) => {
        if (i + 1 >= argv.length) die(`${flag} needs a value`);
        return argv[i + 1];
    };
    const intValue = (v, flag, min) => {
        if (!/^\d+$/.test(v) || Number(v) < min) die(`${flag} must be an integer >= ${min}, got ${v}`);
        return Number(v);
    };
    for (let i = 0; i < argv.length; ++i) {
        let a = argv[i];
        let inlineValue = null;
        if (a.startsWith('--') && a.includes('=')) {
            inlineValue = a.slice(a.indexOf('=') + 1);
            a = a.slice(0, a.indexOf('='));
        }
        const value = () => {
            if (inlineValue !== null) return inlineValue;
            const v = needValue(i, a);
            ++i;
            return v;
        };
        switch (a) {
            case '-h':
            case '--help':
                console.error(USAGE);
                process.exit(0);
            case '--model':
                opts.model = value();
                break;
            case '--max-new-tokens':
                opts.maxNewTokens = intValue(value(), a, 1);
                break;
            case '--images-file':
                opts.imagesFile = value();
                break;
            case '--ignore-eos':
                opts.ignoreEos = true;
                break;
            case '--no-eos-stop':
                opts.noEosStop = true;
                break;
            case '--timing':
                opts.timing = true;
                break;
            case '--warmup':
                opts.warmup = intValue(value(), a, 0);
                break;
            case '--intra-op-threads':
                opts.intraOpThreads = intValue(value(), a, 1);
                break;
            case '--trace-feeds':
                opts.traceFeeds = true;
                break;
            case '--':
                opts.images.push(...argv.slice(i + 1));
                i = argv.length;
                break;
            default:
                if (a.startsWith('-') && a !== '-') die(`unknown option ${a}`);
                opts.images.push(argv[i]);
        }
    }
    if (!opts.model) die('--model is required');
    if (opts.ignoreEos && opts.noEosStop) die('--ignore-eos and --no-eos-stop are mutually exclusive');
    if (opts.imagesFile) {
        const lines = fs
            .readFileSync(opts.imagesFile, 'utf8')
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter((l) => l.length > 0 && !l.startsWith('#'));
        // Relative paths in the list are taken relative to the current directory,
        // exactly like IMG arguments.
        opts.images = [...lines, ...opts.images];
    }
    if (opts.images.length === 0) die('no images given');
    return opts;
}

function describeTensor(t) {
    return `${t.type}[${t.dims.join(',')}]`;
}

function installFeedTracer(model, state) {
    for (const [name, session] of Object.entries(model.sessions)) {
        const run = session.run.bind(session);
        session.run = async (feeds, ...rest) => {
            const out = await run(feeds, ...rest);
            if (state.active) {
                const step = state.calls++;
                const ins = Object.entries(feeds)
                    .map(([k, v]) => {
                        let s = `${k}=${describeTensor(v)}`;
                        // show small integer/bool inputs by value
                        if (['int64', 'int32', 'bool'].includes(v.type) && v.size <= 16) {
                            s += `{${Array.from(v.data, (x) => String(x)).join(',')}}`;
                        }
                        return s;
                    })
                    .join(' ');
                const outs = Object.entries(out)
                    .map(([k, v]) => `${k}=${describeTensor(v)}`)
                    .join(' ');
                console.error(`[trace] run#${step} session=${name}\n  feeds:   ${ins}\n  outputs: ${outs}`);
            }
            return out;
        };
    }
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));

    const { env, AutoProcessor, AutoTokenizer, AutoModelForVision2Seq, RawImage } = await import(
        '@huggingface/transformers'
    );

    // Offline only: resolve "<localModelPath>/<model id>/<file>" on disk, never the Hub.
    const bundle = path.resolve(opts.model);
    if (!fs.existsSync(path.join(bundle, 'config.json'))) die(`no config.json in ${bundle}`);
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(bundle);
    env.useBrowserCache = false;
    env.useFSCache = false;
    // transformers.js resolves a valid Hub-style id against env.localModelPath; anything else
    // (e.g. an absolute path) is used as a path as-is. Fall back to the absolute path when the
    // folder name would not pass its id check (REPO_ID_REGEX, no '--' / '..').
    const base = path.basename(bundle);
    const validId = /^[\w\-.]{1,96}$/.test(base) && !base.includes('--') && !base.includes('..') && !base.endsWith('.git');
    const modelId = validId ? base : bundle;

    const loadOpts = { local_files_only: true };
    const t0 = process.hrtime.bigint();
    const processor = await AutoProcessor.from_pretrained(modelId, loadOpts);
    const tokenizer = await AutoTokenizer.from_pretrained(modelId, loadOpts);
    const sessionOptions = {};
    if (opts.intraOpThreads !== null) sessionOptions.intraOpNumThreads = opts.intraOpThreads;
    const model = await AutoModelForVision2Seq.from_pretrained(modelId, {
        ...loadOpts,
        dtype: 'fp32',
        device: 'cpu',
        session_options: sessionOptions,
    });
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    console.error(
        `[generate] loaded ${model.constructor.name} from ${bundle} in ${loadMs.toFixed(0)} ms; ` +
            `sessions: ${Object.entries(model.sessions)
                .map(([k, s]) => `${k}(${s.inputNames.join(',')})`)
                .join(' ')}`,
    );

    const genKwargs = {
        max_new_tokens: opts.maxNewTokens,
        do_sample: false,
        num_beams: 1,
    };
    if (opts.ignoreEos) genKwargs.min_new_tokens = opts.maxNewTokens;
    if (opts.noEosStop) genKwargs.eos_token_id = null;

    // Effective generation config (config.json [+ config.decoder] <- generation_config.json <- kwargs),
    // computed the same way generate() does.
    {
        const g = model._prepare_generation_config(null, genKwargs);
        const keys = [
            'decoder_start_token_id',
            'bos_token_id',
            'eos_token_id',
            'pad_token_id',
            'max_length',
            'max_new_tokens',
            'min_length',
            'min_new_tokens',
            'do_sample',
            'num_beams',
            'repetition_penalty',
            'no_repeat_ngram_size',
            'bad_words_ids',
            'forced_bos_token_id',
            'forced_eos_token_id',
            'suppress_tokens',
            'begin_suppress_tokens',
        ];
        console.error(`[generate] effective generation config: ${JSON.stringify(Object.fromEntries(keys.map((k) => [k, g[k]])))}`);
    }

    const traceState = { active: false, calls: 0 };
    if (opts.traceFeeds) installFeedTracer(model, traceState);

    async function captionOne(imagePath) {
        let image;
        try {
            image = await RawImage.read(imagePath);
        } catch (e) {
            throw new Error(`cannot read image ${imagePath}: ${e?.message ?? e}`);
        }
        const inputs = await processor(image);
        const sequences = await model.generate({ ...inputs, ...genKwargs });
        const full = sequences.tolist()[0].map((x) => Number(x));
        // generate() returns [decoder_start_token, generated...]; the decoder prompt is one token.
        const tokenIds = full.slice(1);
        return {
            image: imagePath,
            token_ids: tokenIds,
            text: tokenizer.decode(tokenIds, { skip_special_tokens: true }),
            // What pipeline('image-to-text') returns as generated_text: decode of the whole
            // sequence with skip_special_tokens, then String.prototype.trim().
            pipeline_text: tokenizer.decode(full, { skip_special_tokens: true }).trim(),
        };
    }

    for (let i = 0; i < opts.warmup; ++i) await captionOne(opts.images[0]);

    const results = [];
    const perImageMs = [];
    const tStart = process.hrtime.bigint();
    for (let i = 0; i < opts.images.length; ++i) {
        traceState.active = opts.traceFeeds && i === 0;
        const ti = process.hrtime.bigint();
        results.push(await captionOne(opts.images[i]));
        perImageMs.push(Number(process.hrtime.bigint() - ti) / 1e6);
    }
    traceState.active = false;
    const totalMs = Number(process.hrtime.bigint() - tStart) / 1e6;

    process.stdout.write(JSON.stringify(results) + '\n');

    if (opts.timing) {
        const n = results.length;
        const sorted = [...perImageMs].sort((a, b) => a - b);
        const pct = (p) => sorted[Math.min(n - 1, Math.floor((p / 100) * n))];
        const tokens = results.reduce((s, r) => s + r.token_ids.length, 0);
        const maxRssKiB = process.resourceUsage().maxRSS; // kilobytes
        console.error(
            `[timing] images=${n} total_ms=${totalMs.toFixed(1)} images_per_s=${((n * 1000) / totalMs).toFixed(3)} ` +
                `ms_per_image=${(totalMs / n).toFixed(2)} p50_ms=${pct(50).toFixed(2)} p90_ms=${pct(90).toFixed(2)} ` +
                `max_ms=${sorted[n - 1].toFixed(2)} generated_tokens=${tokens} ` +
                `tokens_per_s=${((tokens * 1000) / totalMs).toFixed(1)} load_ms=${loadMs.toFixed(0)} ` +
                `warmup=${opts.warmup} peak_rss_mib=${(maxRssKiB / 1024).toFixed(1)}`,
        );
    }
    await model.dispose();
}

main().catch((e) => {
    console.error(e?.stack ?? String(e));
    process.exit(1);
});
