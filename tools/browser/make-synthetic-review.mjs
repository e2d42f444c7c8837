#!/usr/bin/env node
// Builds a review page with N synthetic rows for benchmarks: the page's own files copied from the
// job's resources, rows.js in the exact format the job writes, and a handful of real thumbnails
// reused by every row.
//   node tools/browser/make-synthetic-review.mjs --rows 100000 --out DIR --thumbs-from OUTPUT/review/thumbs
import { mkdirSync, copyFileSync, readdirSync, createWriteStream } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const n = Number(args.rows ?? 100000);
const out = args.out;
if (!out) throw new Error('--out DIR is required');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const review = join(out, 'review');
mkdirSync(join(review, 'thumbs'), { recursive: true });
for (const f of ['index.html', 'review.css', 'review.js']) {
  copyFileSync(join(root, 'job/src/main/resources/dev/moonbatch/review', f), join(review, f));
}
const thumbs = [];
if (args['thumbs-from']) {
  for (const f of readdirSync(args['thumbs-from']).filter((f) => /^[0-9a-f]{64}\.jpg$/.test(f)).slice(0, 12)) {
    copyFileSync(join(args['thumbs-from'], f), join(review, 'thumbs', f));
    thumbs.push(`thumbs/${f}`);
  }
}

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const colours = ['red', 'green', 'blue', 'navy', 'black', 'white', 'grey', 'yellow', 'orange', 'purple'];
const things = ['mug', 'bottle', 'box', 'ball', 'star', 'shoe', 'lamp', 'chair', 'bag', 'watch'];
const grounds = ['white', 'grey', 'wooden', 'blue', 'marble'];
const columns = ['image_path', 'content_sha256', 'task', 'prompt', 'text', 'confidence', 'min_token_prob',
  'finish_reason', 'change', 'error', 'review_status', 'reviewed_text', 'final_text', 'run_id', 'thumb'];
const runId = '20261207T010000Z-synthetic';
const ws = createWriteStream(join(review, 'rows.js'));
const esc = (v) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
ws.write('window.MOONBATCH_REVIEW = ' + esc({ output: 'file:' + out, generated: new Date().toISOString(), run_id: runId,
  summary: { images: n, rows: n, computed: Math.round(n * 0.02), reused: n - Math.round(n * 0.02), errors: Math.round(n * 0.02) } })
  .slice(0, -1) + ',"columns":' + esc(columns) + ',"rows":[');
for (let i = 0; i < n; i++) {
  const hostile = i % 9973 === 0;
  const name = hostile ? `a"<b>&'x-${i}.jpg` : i % 5000 === 1 ? `商品-ünïcødé-${i}.jpg` : `sku-${String(i).padStart(7, '0')}.jpg`;
  const path = `file:/data/catalogue/${String(i % 1000).padStart(3, '0')}/${name}`;
  const error = rand() < 0.02 ? 'CORRUPT: cannot decode jpeg data: Premature end of JPEG file' : null;
  const text = error ? null : `a ${colours[i % 10]} ${things[(i >> 3) % 10]} on a ${grounds[(i >> 5) % 5]} background`
    + (rand() < 0.3 ? ', photographed from the front with soft studio lighting and a light shadow' : '');
  const conf = error ? null : Math.round((0.35 + 0.65 * Math.sqrt(rand())) * 10000) / 10000;
  const r = rand();
  const change = r < 0.01 ? 'new' : r < 0.02 ? 'changed' : r < 0.021 ? 'removed' : 'unchanged';
  const row = [path, (i.toString(16) + '0'.repeat(64)).slice(0, 64), 'caption', null, text, conf,
    conf === null ? null : Math.round(conf * conf * 10000) / 10000, error ? null : rand() < 0.05 ? 'length' : 'eos',
    change, error, null, null, text, error || change !== 'unchanged' ? runId : '20261206T010000Z-earlier',
    thumbs.length ? thumbs[i % thumbs.length] : null];
  ws.write((i ? ',' : '') + esc(row));
}
ws.end(']};\n');
await new Promise((resolve) => ws.on('finish', resolve));
process.stdout.write(`${n} rows in ${join(review, 'rows.js')}\n`);
