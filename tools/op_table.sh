#!/usr/bin/env bash
# Prints the supported-op table (Markdown) from the registry, ops/ops.def
# (names, first opsets), and ops/op_types.txt (element types; a unit test
# keeps it in step with ops.def). Runs of integer types are shortened:
# int8 int16 int32 int64 -> int8–64.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "| op | opsets | types |"
echo "|---|---|---|"
awk '
  # Ops whose files implement definitions past opset 23 (ops/cast.c: round_mode and
  # float8e8m0 at 24, int2/uint2 at 25); every other op is implemented up to 23.
  BEGIN { newest["Cast"] = 25; newest["CastLike"] = 25 }
  # ops/op_types.txt: "Op: t1 t2 ..."
  FNR == NR {
    if ($0 ~ /^#/ || $0 == "") next
    op = $1; sub(/:$/, "", op)
    $1 = ""; types[op] = substr($0, 2)
    next
  }
  /^OP\(/ {
    line = $0
    sub(/^OP\(/, "", line)
    split(line, f, /, */)
    printf "| %s | %s–%d | %s |\n", f[1], f[2], (f[1] in newest ? newest[f[1]] : 23), shorten(types[f[1]])
  }
  function shorten(s,    prefix, w, i, n, have, out, k, run, b, done) {
    n = split(s, w, " ")
    for (i = 1; i <= n; i++) have[w[i]] = 1
    out = ""
    for (i = 1; i <= n; i++) {
      if (w[i] ~ /^u?int(8|16|32|64)$/) {
        prefix = w[i]; sub(/[0-9]+$/, "", prefix)
        if (prefix in done) continue
        done[prefix] = 1
        run = ""
        split("8 16 32 64", b, " ")
        for (k = 1; k <= 4; k++) if ((prefix b[k]) in have) run = run (run == "" ? "" : " ") b[k]
        if (run == "8 16 32 64") out = out (out == "" ? "" : ", ") prefix "8–64"
        else {
          gsub(/ /, "/", run)
          out = out (out == "" ? "" : ", ") prefix run
        }
        continue
      }
      out = out (out == "" ? "" : ", ") w[i]
    }
    return out
  }
' ops/op_types.txt ops/ops.def
