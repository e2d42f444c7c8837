#!/usr/bin/env node
// transformers.js 4.3.1's RawImage.resize in Node (sharp/libvips), for SharpResizeAgreementTest:
//   node tools/reference/sharp-resize.mjs SPEC.json
// SPEC: [{"in": "a.png", "w": 378, "h": 378, "resample": 3, "out": "a-378.rgb"}, ...]; each `out`
// gets the resized image as packed 8-bit RGB rows.
import fs from 'node:fs';

const base = new URL('./node_modules/', import.meta.url);
const { RawImage } = await import(new URL('@huggingface/transformers/dist/transformers.node.mjs', base));
const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
for (const s of spec) {
    const image = (await RawImage.read(s.in)).rgb();
    const resized = (await image.resize(s.w, s.h, { resample: s.resample })).rgb();
    fs.writeFileSync(s.out, Buffer.from(resized.data));
}
