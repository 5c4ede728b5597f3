#!/usr/bin/env bash
# Builds the AArch64 NEON kernels with Debian's cross compiler and runs them
# under qemu-user against the references (tests/cross/neon_kernels.c). Also
# compiles every library source for aarch64, so that NEON-only code paths and
# #ifdefs are checked on each run. Installs the cross toolchain when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-neon}
need=()
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
cc=aarch64-linux-gnu-gcc
flags=(-std=c11 -O2 -Wall -Wextra -Wpedantic -Werror -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700
       -Iruntime -Iops -Ionnx
       -DOR_HAVE_NEON_KERNELS=1 -pthread)
mkdir -p "$build"

# Every library source compiles for aarch64 (x86 kernel files excluded, as CMake does).
# The protobuf-c bindings are generated here as CMake does; protobuf-c's header
# is architecture independent, so it is taken from the host after the cross headers.
gen="$build/gen"
mkdir -p "$gen"
protoc-c --proto_path=/usr/include/onnx --c_out="$gen" onnx.proto
objs=0
for src in onnx/*.c runtime/*.c ops/*.c ops/kernels/*.c; do
  case $src in *__avx2.c|*__avx512.c) continue;; esac
  "$cc" "${flags[@]}" -I"$gen" -idirafter /usr/include -c "$src" -o "$build/obj.o"
  objs=$((objs + 1))
done
echo "neon_check: $objs library sources compile for aarch64"

kernels=(ops/kernels/*__scalar.c ops/kernels/*__neon.c ops/kernels/gemm.c
         runtime/cpu.c runtime/env.c runtime/alloc.c runtime/threadpool.c runtime/weights.c)
"$cc" "${flags[@]}" -static tests/cross/neon_kernels.c "${kernels[@]}" -lm -o "$build/neon_kernels"
qemu-aarch64 "$build/neon_kernels"
