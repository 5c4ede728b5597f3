#!/usr/bin/env bash
# Runs onnxrun on the PyTorch fixtures (tests/models/<name>/set_<k>, made by
# export_models.py) and on examples/<name>, and compares its outputs with
# PyTorch's and with onnxruntime's (tools/ort_ref.js), |a-e| <= 1e-5 + 1e-3*|e|.
# A set passes when onnxrun matches both; onnxruntime is also checked against
# PyTorch so a bad fixture shows up as such. Ends with
# "models: N passed, M failed" and exits non-zero on any failure.
#
# usage: tests/models/check_models.sh [BUILD_DIR]     (default: ./build)
# env:   MODELS_KEEP=1 keeps the work folder.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) || exit 2
onnxrun=$build/onnxrun
cmp=$build/tests/npy_compare
for exe in "$onnxrun" "$cmp"; do
  [ -x "$exe" ] || { echo "check_models.sh: $exe not built (cmake --build $build)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "check_models.sh: node not found (apt-get install nodejs npm)" >&2; exit 2; }
if [ ! -d "$root/node_modules/onnxruntime-node" ]; then
  echo "check_models.sh: installing onnxruntime-node (npm ci)" >&2
  (cd "$root" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error) >&2 || exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/check_models.XXXXXX")
if [ "${MODELS_KEEP:-0}" = 1 ]; then
  trap 'echo "check_models.sh: outputs kept in $work" >&2' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi

# One case per line: ID MODEL EXPECTED OPTIONS INPUT...  (EXPECTED: a folder
# of <output>.npy, or a single expected_output.npy for examples)
cases=$work/cases.txt
: >"$cases"
for model in "$root"/tests/models/*/model.onnx; do
  dir=$(dirname "$model")
  for set in "$dir"/set_*; do
    [ -d "$set/input" ] || continue
    args=""
    for f in "$set"/input/*.npy; do args="$args $(basename "$f" .npy)=$f"; done
    # onnxrun's options for the model (onnxrun_args, e.g. "--threads 2"), one
    # word with commas for spaces; "-" for none. onnxruntime runs without them.
    opts=-
    [ -f "$dir/onnxrun_args" ] && opts=$(tr -s ' \t\n' ',' <"$dir/onnxrun_args" | sed 's/^,//; s/,$//')
    [ -n "$opts" ] || opts=-
    echo "$(basename "$dir")/$(basename "$set") $model $set/output $opts$args" >>"$cases"
  done
done
for model in "$root"/examples/*/model.onnx; do
  dir=$(dirname "$model")
  [ -f "$dir/input.npy" ] && [ -f "$dir/expected_output.npy" ] || continue
  echo "examples/$(basename "$dir") $model $dir/expected_output.npy - $dir/input.npy" >>"$cases"
done

# onnxruntime on every case in one node process.
while read -r id model expected opts args; do
  echo "$model $work/$id/ort $args"
done <"$cases" >"$work/ort_list.txt"
node "$root/tools/ort_ref.js" --batch "$work/ort_list.txt"

# Compares the output folder GOT with EXPECTED (folder or single file).
compare() {
  local expected=$1 got=$2 files
  if [ -d "$expected" ]; then
    "$cmp" "$expected" "$got"
  else
    files=("$got"/*.npy)
    if [ "${#files[@]}" -ne 1 ] || [ ! -f "${files[0]}" ]; then
      echo "  expected exactly one output in $got"
      return 1
    fi
    "$cmp" "$expected" "${files[0]}"
  fi
}

# The largest "max abs err" in npy_compare's report.
worst() {
  sed -n 's/.*max abs err \([^,]*\).*/\1/p' <<<"$1" | sort -g | tail -n 1
}

passed=0
failed=0
skipped=0
pending_file="$root/tests/models/pending.txt"
is_pending() { grep -q "^${1%%/*} " "$pending_file" 2>/dev/null; }
while read -r id model expected opts args; do
  out=$work/$id/onnxrun
  options=()
  [ "$opts" = - ] || IFS=, read -r -a options <<<"$opts"
  mkdir -p "$out"
  ok=1
  report=""
  torch_err=-
  ort_err=-
  rc=0
  # shellcheck disable=SC2086 # args holds NAME=FILE words
  "$onnxrun" ${options[@]+"${options[@]}"} -o "$out" "$model" $args >"$work/$id/stdout.txt" 2>"$work/$id/stderr.txt" || rc=$?
  if [ "$rc" -ne 0 ]; then
    ok=0
    report+="  onnxrun failed (exit $rc): $(tr '\n' ' ' <"$work/$id/stderr.txt" | head -c 400)"$'\n'
  else
    r=$(compare "$expected" "$out") || { ok=0; }
    report+="  vs PyTorch:"$'\n'"$r"$'\n'
    torch_err=$(worst "$r")
  fi
  if [ -f "$work/$id/ort/error.txt" ]; then
    ok=0
    report+="  onnxruntime failed: $(head -c 400 "$work/$id/ort/error.txt")"$'\n'
  else
    r=$(compare "$expected" "$work/$id/ort") || { ok=0; report+="  FIXTURE: onnxruntime disagrees with PyTorch"$'\n'; }
    if [ -z "$(ls "$out"/*.npy 2>/dev/null)" ]; then
      :
    elif [ -d "$expected" ]; then
      r=$("$cmp" "$work/$id/ort" "$out") || ok=0
      report+="  vs onnxruntime:"$'\n'"$r"$'\n'
      ort_err=$(worst "$r")
    fi
  fi
  if [ "$ok" = 1 ]; then
    passed=$((passed + 1))
    echo "PASS $id (max abs err vs PyTorch $torch_err, vs onnxruntime $ort_err)"
  elif is_pending "$id" && [ "$rc" -eq 2 ] && grep -q "unsupported op" "$work/$id/stderr.txt"; then
    skipped=$((skipped + 1))
    echo "SKIP $id (listed in tests/models/pending.txt: $(tr '\n' ' ' <"$work/$id/stderr.txt" | sed -n "s/.*\(unsupported op '[^']*'\).*/\1/p"))"
  else
    failed=$((failed + 1))
    echo "FAIL $id"
    printf '%s' "$report"
  fi
  if [ "$ok" = 1 ] && is_pending "$id"; then
    echo "NOTE $id passes now: remove it from tests/models/pending.txt"
  fi
done <"$cases"

missing=$(cat "$work"/*/*/stderr.txt "$work"/examples/*/stderr.txt 2>/dev/null |
  sed -n "s/.*unsupported op '\([^']*\)'.*/\1/p" | sort -u | tr '\n' ' ')
[ -n "$missing" ] && echo "onnxrun stopped at unsupported ops: $missing"
echo "models: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
