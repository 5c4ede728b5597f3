/* Instruction-set selection for kernels, read once from CPUID.
 * ONNXRUN_ISA=scalar|avx2|avx512|neon caps the choice (tests use it to run
 * every variant against the scalar reference). */
#ifndef OR_CPU_H
#define OR_CPU_H

#include <stdbool.h>
#include <stddef.h>

typedef enum or_isa {
    OR_ISA_SCALAR = 0,
    OR_ISA_AVX2 = 1,   /* AVX2 + FMA */
    OR_ISA_AVX512 = 2, /* AVX-512 F/BW/DQ/VL */
    OR_ISA_NEON = 3,
} or_isa;

/* The best ISA the CPU has, capped by ONNXRUN_ISA. Cached after first use. */
or_isa or_cpu_isa(void);
/* Re-reads ONNXRUN_ISA (for tests that switch variants in one process). */
void or_cpu_reset(void);
const char *or_isa_name(or_isa isa);

/* Optional extensions beyond the base ISA, reported only while or_cpu_isa()
 * is OR_ISA_AVX512 (so ONNXRUN_ISA=avx2 or scalar turns them off too). */
typedef enum or_cpu_feature {
    OR_CPU_AVX512_BF16 = 0, /* VDPBF16PS */
    OR_CPU_AVX512_VNNI = 1, /* VPDPBUSD */
} or_cpu_feature;
bool or_cpu_has(or_cpu_feature f);

/* Bytes of the last-level (L3) cache one core shares, 0 when unknown.
 * Cached after first use. */
size_t or_cpu_l3_bytes(void);
/* The L2 per core as sysfs (else sysconf) gives it, or 0. */
size_t or_cpu_l2_bytes(void);

#endif
