#!/usr/bin/env bash
# Rewrites README.md's option blocks from the CLI's own --help (picocli's model), so the README can
# not drift from the code; ReadmeOptionsTest fails when they differ. Run after changing an option.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
README="$ROOT/README.md"
replace() {  # $1 = marker text (the command), rest = arguments for run.sh
  local marker="$1"; shift
  local help; help="$(env -i PATH="$PATH" HOME="$HOME" "$ROOT/run.sh" "$@" 2>/dev/null)"
  HELP="$help" MARKER="$marker" awk '
    $0 == "<!-- BEGIN " ENVIRON["MARKER"] " -->" { print; print "```text"; print ENVIRON["HELP"]; print "```"; skip = 1; next }
    $0 == "<!-- END " ENVIRON["MARKER"] " -->" { skip = 0 }
    !skip { print }' "$README" > "$README.tmp"
  mv "$README.tmp" "$README"
}
replace "./run.sh --help" --help
replace "./run.sh review --help" review --help
replace "./run.sh ask --help" ask --help
