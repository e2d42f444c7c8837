#!/usr/bin/env bash
# The review page at catalogue scale: a 100,000-row output (synthetic rows, the demo's real
# thumbnails reused), opened from disk in headless Chromium. Prints load time (navigation to first
# render) and filter time (errors-only: click to re-render, and the page's own filtering+sorting),
# median of RUNS, beside the targets (load ≤ 3 s, filter ≤ 300 ms).
# Usage: bench/review-page.sh [ROWS] [RUNS]   (defaults 100000, 3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-100000}"
RUNS="${2:-3}"
WORK="$ROOT/bench/work/review-page"
rm -rf "$WORK" && mkdir -p "$WORK"
[ -d "$ROOT/tools/browser/node_modules/playwright-core" ] || (cd "$ROOT/tools/browser" && npm ci --no-audit --no-fund --loglevel=error)

# real thumbnails: the demo output's (made once)
DEMO="$WORK/demo"
"$ROOT/run.sh" --input "$ROOT/sample-data/images" --output "$DEMO" > "$WORK/demo.log" 2>&1
node "$ROOT/tools/browser/make-synthetic-review.mjs" --rows "$ROWS" --out "$WORK/big" --thumbs-from "$DEMO/review/thumbs"
SIZE=$(du -m "$WORK/big/review/rows.js" | cut -f1)

echo "bench: review page, $ROWS rows (rows.js ${SIZE} MB), Chromium $(chromium --version 2>/dev/null | awk '{print $2}'), $(nproc) cores, $(date -u +%F)"
for ((i = 1; i <= RUNS; i++)); do
  node "$ROOT/tools/browser/review-check.mjs" --page "$WORK/big/review/index.html" > "$WORK/run$i.json"
done
node -e '
const fs = require("fs");
const runs = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = median(runs.map((r) => r.timings.loadMs));
const filter = median(runs.map((r) => r.filter.filterMs));
const inPage = median(runs.map((r) => r.filter.pageFilterMs));
const r = runs[0];
console.log(`rows on the page: ${r.total}, default view (tonight): ${r.visible}, rendered DOM rows: ${r.renderedRows}, network requests: ${r.networkRequests.length}`);
console.log(`${"".padEnd(44)}${"median".padStart(10)}${"target".padStart(10)}`);
console.log(`${"load (navigation to first render)".padEnd(44)}${(load + " ms").padStart(10)}${"3000 ms".padStart(10)}  ${load <= 3000 ? "met" : "NOT met"}`);
console.log(`${"filter errors-only (click to re-render)".padEnd(44)}${(filter + " ms").padStart(10)}${"300 ms".padStart(10)}  ${filter <= 300 ? "met" : "NOT met"}`);
console.log(`${"  of which the page filters and sorts".padEnd(44)}${(inPage.toFixed(1) + " ms").padStart(10)}`);
' "$WORK"/run*.json
