#!/usr/bin/env node
// Self-check: a plain-JS model of the bilinear resize that transformers.js does in
// Node (RawImage.resize(w, h, {resample: 2}) -> sharp .affine([w/W,0,0,h/H],
// {interpolator: 'bilinear'}) -> libvips vips_affine + vips_interpolate_bilinear,
// uchar fixed-point path), compared byte-for-byte against the real thing on
// random RGB images. This is the spec a port (e.g. Java) has to reproduce.
//
//   node tools/reference/check-resize.mjs        -> prints one line per case, exit 1 on mismatch
//
// The algorithm (libvips 8.18, resample/affine.c + resample/interpolate.c):
//   scale a = w/W, d = h/H; inverse ia = (1/(a*d))*d, id = (1/(a*d))*a   (double)
//   The input is embedded in a 1-pixel border of background = 0 (black), so
//   coordinates below are in "original pixel + 1" space.
//   for each output row y: iy = id*y + 1
//     ix starts at 1 and is ACCUMULATED: ix += ia per output column (not ia*x)
//     fx = floor(ix), fy = floor(iy); X = trunc(frac(ix)*4096), Y = trunc(frac(iy)*4096)
//     c4 = (Y*X)>>12, c2 = ((4096-Y)*X)>>12, c3 = Y-c4, c1 = (4096-Y)-c2
//     out = (c1*p(fx-1,fy-1) + c2*p(fx,fy-1) + c3*p(fx-1,fy) + c4*p(fx,fy) + 2048) >> 12
//   where p(i,j) is the original pixel (i,j), or 0 outside the image.
//   => corner-aligned sampling (src = dst * W/w, no half-pixel offset), no antialiasing
//      on downscale, and on upscale the last row/column blends towards black.

const base = new URL('./node_modules/', import.meta.url);
const { RawImage } = await import(new URL('@huggingface/transformers/dist/transformers.node.mjs', base));

export function bilinearLikeSharp(src, W, H, C, w, h) {
    const a = w / W;
    const d = h / H;
    const tmp = 1.0 / (a * d);
    const ia = tmp * d;
    const id = tmp * a;
    const get = (x, y, c) => (x < 0 || y < 0 || x >= W || y >= H ? 0 : src[(y * W + x) * C + c]);
    const out = new Uint8Array(w * h * C);
    for (let y = 0; y < h; y++) {
        const iy = id * y + 1;
        let ix = 1;
        for (let x = 0; x < w; x++) {
            const fx = Math.floor(ix);
            const fy = Math.floor(iy);
            const X = Math.trunc((ix - fx) * 4096);
            const Y = Math.trunc((iy - fy) * 4096);
            const Yd = 4096 - Y;
            const c4 = (Y * X) >> 12;
            const c2 = (Yd * X) >> 12;
            const c3 = Y - c4;
            const c1 = Yd - c2;
            for (let c = 0; c < C; c++) {
                const p1 = get(fx - 1, fy - 1, c);
                const p2 = get(fx, fy - 1, c);
                const p3 = get(fx - 1, fy, c);
                const p4 = get(fx, fy, c);
                out[(y * w + x) * C + c] = (c1 * p1 + c2 * p2 + c3 * p3 + c4 * p4 + 2048) >> 12;
            }
            ix += ia;
        }
    }
    return out;
}

let seed = 12345;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
const cases = [
    [4, 3, 9, 7],
    [640, 480, 224, 224],
    [480, 640, 224, 224],
    [100, 50, 224, 224],
    [333, 517, 224, 224],
    [224, 100, 224, 224],
    [1920, 1080, 224, 224],
    [225, 223, 224, 224],
];
let bad = 0;
for (const [W, H, w, h] of cases) {
    const C = 3;
    const src = new Uint8ClampedArray(W * H * C);
    for (let i = 0; i < src.length; i++) src[i] = rnd();
    const got = await new RawImage(src, W, H, C).resize(w, h, { resample: 2 });
    const want = bilinearLikeSharp(src, W, H, C, w, h);
    let mism = 0;
    let maxd = 0;
    for (let i = 0; i < want.length; i++) {
        const dd = Math.abs(want[i] - got.data[i]);
        if (dd) mism++;
        maxd = Math.max(maxd, dd);
    }
    const ok = got.width === w && got.height === h && got.channels === C && mism === 0;
    if (!ok) bad++;
    console.log(
        `${ok ? 'OK  ' : 'FAIL'} ${W}x${H} -> ${w}x${h}: got ${got.width}x${got.height}x${got.channels}, ` +
            `mismatching bytes ${mism}/${want.length}, max abs diff ${maxd}`,
    );
}
process.exit(bad ? 1 : 0);
