#!/usr/bin/env bash
# Prints the supported-op table (Markdown) from the registry, ops/ops.def.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "| op | opsets |"
echo "|---|---|"
grep -E '^OP\(' ops/ops.def | sed -E 's/^OP\(([A-Za-z0-9_]+), *([0-9]+),.*$/| \1 | \2–23 |/'
