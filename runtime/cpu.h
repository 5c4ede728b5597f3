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
/* Re-reads ONNXRUN_ISA and the cache sizes (for tests that switch variants
 * or sizes in one process; not while another thread plans a graph). */
void or_cpu_reset(void);
const char *or_isa_name(or_isa isa);

/* Optional extensions beyond the base ISA, reported only while or_cpu_isa()
 * is OR_ISA_AVX512 (so ONNXRUN_ISA=avx2 or scalar turns them off too). */
typedef enum or_cpu_feature {
    OR_CPU_AVX512_BF16 = 0, /* VDPBF16PS */
    OR_CPU_AVX512_VNNI = 1, /* VPDPBUSD */
} or_cpu_feature;
bool or_cpu_has(or_cpu_feature f);

/* Bytes of the last-level (L3) cache one core shares, 0 when unknown:
 * ONNXRUN_L3_BYTES when set to a size (or_cpu_size_from_text), else from
 * sysfs, else from sysconf through or_cpu_l3_from_sysconf. Cached after
 * first use. */
size_t or_cpu_l3_bytes(void);
/* Where or_cpu_l3_bytes came from: "env", "sysfs", "cpuid" (sysconf, capped
 * as below) or "none" (bench/cache_sizes reports it). */
const char *or_cpu_l3_source(void);
/* Without sysfs (some VMs and sandboxes) glibc's L3 figure comes from CPUID,
 * which a hypervisor may fill with the whole package's L3: 508 MiB on a
 * 2-core Zen 5 VM whose reads slowed down past 16-32 MiB like one CCD's
 * (bench/mem_bw --curve: 16 MiB 75 GB/s, 32 MiB 29, memory 23). An AMD core
 * shares only its CCX's L3, so there the figure is capped (cap, 0 for none)
 * to the largest L3 of one CCX in the CPU's family (or_cpu_amd_ccx_l3: Zen
 * 3-5 32 MiB, Zen 2 16, Zen 1, Hygon and older 8). Parts with less (Zen 4c,
 * some mobile ones) are still overstated; 3D V-Cache parts are understated,
 * which only makes R look less cached than it is. */
size_t or_cpu_l3_from_sysconf(size_t reported, size_t cap);
size_t or_cpu_amd_ccx_l3(unsigned family, unsigned model);
/* The L2 per core: ONNXRUN_L2_BYTES when set to a size, else as sysfs (else
 * sysconf) gives it, or 0. */
size_t or_cpu_l2_bytes(void);
/* Whether every online CPU shares cpu0's L3 (one L3 for all the pool's
 * threads, so that a cache line goes between them through it): as
 * ONNXRUN_L3_SHARED says when set, else as sysfs's shared_cpu_list says;
 * false when unknown (no sysfs). Cached after the first call until
 * or_cpu_reset. */
bool or_cpu_l3_shared(void);
/* Whether a CPU list as sysfs writes it ("0-3,8,10-11\n") names every CPU
 * from 0 to cpus - 1; false for text it cannot read. */
bool or_cpu_list_covers(const char *list, long cpus);
/* "1048576", "1024K" or "1M" as bytes; 0 for anything else, a trailing
 * newline included (sysfs lines are cut at theirs first; runtime/env.c parses
 * ONNXRUN_L2_BYTES and ONNXRUN_L3_BYTES with it). */
size_t or_cpu_size_from_text(const char *text);

#endif
