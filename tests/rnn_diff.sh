#!/usr/bin/env bash
# Differential test of RNN/GRU/LSTM: onnxrun against onnxruntime on seeded
# random single-node models (see tests/rnn_diff.c), once per kernel variant:
# ONNXRUN_ISA=scalar, avx2, avx512 (those the CPU has), the default ISA
# with 2 threads, and with 2 threads the recurrent team forced to split the
# batch rows (ONNXRUN_RNN_TEAM=4; variant "rows"). Ends with "rnn_diff: N passed, M failed" (N, M count
# case x variant runs); exits non-zero on any failure.
#
# usage: tests/rnn_diff.sh [BUILD_DIR]      (default: ./build)
# env:   RNN_DIFF_SEED, RNN_DIFF_COUNT (default 540), RNN_DIFF_KEEP=1 keeps the
#        work folder, RNN_DIFF_VARIANTS="scalar:1 default:2" overrides variants.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
onnxrun=$build/onnxrun
gen=$build/tests/rnn_diff
for exe in "$onnxrun" "$gen"; do
  [ -x "$exe" ] || { echo "rnn_diff.sh: $exe not built (cmake --build $build)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "rnn_diff.sh: node not found (apt-get install nodejs npm)" >&2; exit 2; }
if [ ! -d "$root/node_modules/onnxruntime-node" ]; then
  echo "rnn_diff.sh: installing onnxruntime-node (npm ci)" >&2
  (cd "$root" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error) >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rnn_diff.XXXXXX")
cleanup() {
  if [ "${RNN_DIFF_KEEP:-0}" = 1 ]; then echo "rnn_diff.sh: cases kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

gen_args=()
[ -n "${RNN_DIFF_SEED:-}" ] && gen_args+=(--seed "$RNN_DIFF_SEED")
[ -n "${RNN_DIFF_COUNT:-}" ] && gen_args+=(--count "$RNN_DIFF_COUNT")
"$gen" gen "$work" "${gen_args[@]}"
node "$root/tools/ort_ref.js" --batch "$work/ort_list.txt"

if [ -n "${RNN_DIFF_VARIANTS:-}" ]; then
  read -r -a variants <<<"$RNN_DIFF_VARIANTS"
else
  variants=(scalar:1)
  grep -qw avx2 /proc/cpuinfo 2>/dev/null && variants+=(avx2:1)
  grep -qw avx512f /proc/cpuinfo 2>/dev/null && variants+=(avx512:1)
  variants+=(default:2 rows:2)
fi

# Runs onnxrun on every case into CASEDIR/out-ISA-tN; a failure leaves
# error.txt there for the checker to report.
run_variant() {
  local isa=${1%%:*} threads=${1##*:} sub="out-${1%%:*}-t${1##*:}"
  local cdir model args rc
  while read -r cdir model args; do
    mkdir -p "$cdir/$sub"
    rc=0
    # shellcheck disable=SC2086 # args holds NAME=FILE words
    if [ "$isa" = default ]; then
      "$onnxrun" --threads "$threads" -o "$cdir/$sub" "$model" $args 2>"$cdir/$sub/stderr.txt" || rc=$?
    elif [ "$isa" = rows ]; then
      ONNXRUN_RNN_TEAM=4 "$onnxrun" --threads "$threads" -o "$cdir/$sub" "$model" $args \
        2>"$cdir/$sub/stderr.txt" || rc=$?
    else
      ONNXRUN_ISA=$isa "$onnxrun" --threads "$threads" -o "$cdir/$sub" "$model" $args \
        2>"$cdir/$sub/stderr.txt" || rc=$?
    fi
    if [ "$rc" -ne 0 ]; then
      printf 'exit %d: %s\n' "$rc" "$(tr '\n' ' ' <"$cdir/$sub/stderr.txt" | head -c 400)" >"$cdir/$sub/error.txt"
    fi
  done <"$work/run_list.txt"
}

subs=()
pids=()
for v in "${variants[@]}"; do
  subs+=("out-${v%%:*}-t${v##*:}")
  run_variant "$v" &
  pids+=($!)
  # Two at a time: the machine has two cores.
  if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

rc=0
"$gen" check "$work" "${subs[@]}" || rc=$?
if [ "$rc" -ne 0 ] && [ "${RNN_DIFF_KEEP:-0}" != 1 ]; then
  echo "rnn_diff.sh: rerun with RNN_DIFF_KEEP=1 to keep the failing cases" >&2
fi
exit "$rc"
