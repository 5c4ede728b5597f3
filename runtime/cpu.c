/* CPUID-based ISA selection, capped by the ONNXRUN_ISA environment variable. */
#include "cpu.h"
#include "env.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static or_isa detect_hardware(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return OR_ISA_SCALAR;
    bool has_fma = c & bit_FMA, has_osxsave = c & bit_OSXSAVE, has_avx = c & bit_AVX;
    if (!has_osxsave || !has_avx || !has_fma) return OR_ISA_SCALAR;
    unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return OR_ISA_SCALAR; /* OS saves XMM and YMM */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return OR_ISA_SCALAR;
    if (!(b & bit_AVX2)) return OR_ISA_SCALAR;
    bool avx512 = (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512DQ) &&
                  (b & bit_AVX512VL) && (xcr0 & 0xe6) == 0xe6;
    return avx512 ? OR_ISA_AVX512 : OR_ISA_AVX2;
}

/* Bit per or_cpu_feature; only meaningful when the hardware has AVX-512. */
static unsigned detect_features(void) {
    unsigned int a, b, c, d, bits = 0;
    if (detect_hardware() != OR_ISA_AVX512) return 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 11)))
        bits |= 1u << OR_CPU_AVX512_VNNI;
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5)))
        bits |= 1u << OR_CPU_AVX512_BF16;
    return bits;
}
#elif defined(__aarch64__)
static or_isa detect_hardware(void) {
    return OR_ISA_NEON;
}
static unsigned detect_features(void) {
    return 0;
}
#else
static or_isa detect_hardware(void) {
    return OR_ISA_SCALAR;
}
static unsigned detect_features(void) {
    return 0;
}
#endif

static or_isa cap_from_env(or_isa hw) {
    int64_t want = or_env_value(OR_ENV_ISA); /* or_isa order */
    if (want < 0) return hw;
    or_isa cap = (or_isa)want;
    if (hw == OR_ISA_NEON) return cap == OR_ISA_SCALAR ? OR_ISA_SCALAR : OR_ISA_NEON;
    if (cap == OR_ISA_NEON) return OR_ISA_SCALAR;
    return cap < hw ? cap : hw;
}

static atomic_int cached_isa = -1;

or_isa or_cpu_isa(void) {
    int isa = atomic_load(&cached_isa);
    if (isa < 0) {
        isa = (int)cap_from_env(detect_hardware());
        atomic_store(&cached_isa, isa);
    }
    return (or_isa)isa;
}

static atomic_size_t cached_l2 = SIZE_MAX, cached_l3 = SIZE_MAX;
static atomic_int cached_l3_shared = -1;

void or_cpu_reset(void) {
    atomic_store(&cached_isa, -1);
    atomic_store(&cached_l2, SIZE_MAX);
    atomic_store(&cached_l3, SIZE_MAX);
    atomic_store(&cached_l3_shared, -1);
}

static atomic_int cached_features = -1;

bool or_cpu_has(or_cpu_feature f) {
    if (or_cpu_isa() != OR_ISA_AVX512) return false;
    int bits = atomic_load(&cached_features);
    if (bits < 0) {
        bits = (int)detect_features();
        atomic_store(&cached_features, bits);
    }
    return (bits >> f) & 1;
}

size_t or_cpu_size_from_text(const char *text) {
    if (!text || *text < '0' || *text > '9') return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno) return 0;
    int shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10;
    if (*end == 'M' || *end == 'm') shift = 20;
    if (shift) end++;
    if (*end != '\0' || n >= (SIZE_MAX >> shift)) return 0;
    return (size_t)(n << shift);
}

/* The file attr of cpu0's cache of level want_level in sysfs ("size",
 * "shared_cpu_list"), its first line in line without the newline; false
 * when sysfs does not describe that cache. */
static bool sysfs_cache_attr(int want_level, const char *attr, char *line, int size) {
    char path[96];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) return false;
        int level = fgets(line, size, f) ? atoi(line) : 0;
        fclose(f);
        if (level != want_level) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", i, attr);
        if (!(f = fopen(path, "r"))) return false;
        bool ok = fgets(line, size, f) != NULL;
        fclose(f);
        if (ok) line[strcspn(line, "\n")] = '\0';
        return ok;
    }
    return false;
}

/* A cache level of cpu0 as sysfs describes it ("8192K"), or 0. Read before
 * sysconf because glibc's CPUID-based figure can be the whole package's L3
 * (64 MiB on an 8-CCX EPYC, where one core sees 8 MiB). */
static size_t cache_from_sysfs(int want_level) {
    char line[32];
    return sysfs_cache_attr(want_level, "size", line, sizeof line) ? or_cpu_size_from_text(line)
                                                                   : 0;
}

bool or_cpu_list_covers(const char *list, long cpus) {
    long next = 0; /* CPUs 0 .. next - 1 are named so far */
    const char *p = list;
    while (p && *p >= '0' && *p <= '9') {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (*end == '-') hi = strtol(end + 1, &end, 10);
        if (hi < lo) return false;
        if (lo <= next && hi >= next) next = hi + 1;
        p = *end == ',' ? end + 1 : NULL;
        if (!p && *end != '\0' && *end != '\n') return false;
    }
    return cpus > 0 && next >= cpus;
}

/* cpu0's L3 from sysfs: shared by every online CPU? */
static bool l3_shared_from_sysfs(void) {
    char line[256];
    return sysfs_cache_attr(3, "shared_cpu_list", line, sizeof line) &&
           or_cpu_list_covers(line, sysconf(_SC_NPROCESSORS_ONLN));
}

bool or_cpu_l3_shared(void) {
    int v = atomic_load(&cached_l3_shared);
    if (v >= 0) return v;
    int64_t forced = or_env_value(OR_ENV_L3_SHARED);
    v = forced >= 0 ? forced == 1 : l3_shared_from_sysfs();
    atomic_store(&cached_l3_shared, v);
    return v;
}

size_t or_cpu_amd_ccx_l3(unsigned family, unsigned model) {
    const size_t mib = (size_t)1 << 20;
    if (family >= 0x19) return 32 * mib;
    if (family == 0x17 && model >= 0x30) return 16 * mib;
    return 8 * mib;
}

size_t or_cpu_l3_from_sysconf(size_t reported, size_t cap) {
    return cap > 0 && reported > cap ? cap : reported;
}

#if defined(__x86_64__) || defined(__i386__)
/* One CCX's L3 on AMD and Hygon (or_cpu_amd_ccx_l3), 0 elsewhere. */
static size_t l3_cap(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    char id[13];
    memcpy(id, &b, 4);
    memcpy(id + 4, &d, 4);
    memcpy(id + 8, &c, 4);
    id[12] = '\0';
    if (strcmp(id, "AuthenticAMD") != 0 && strcmp(id, "HygonGenuine") != 0) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    if (family == 0xf) {
        family += (a >> 20) & 0xff;
        model |= ((a >> 16) & 0xf) << 4;
    }
    return or_cpu_amd_ccx_l3(family, model);
}
#else
static size_t l3_cap(void) {
    return 0;
}
#endif

/* Where a cached size came from, for or_cpu_l3_source. */
enum { FROM_NONE, FROM_ENV, FROM_SYSFS, FROM_CPUID };
static atomic_int l3_from = FROM_NONE;

static size_t cache_bytes(atomic_size_t *cached, atomic_int *from, int level, long sysconf_name) {
    size_t n = atomic_load(cached);
    if (n != SIZE_MAX) return n;
    int source = FROM_ENV;
    int64_t forced = or_env_value(level == 2 ? OR_ENV_L2_BYTES : OR_ENV_L3_BYTES);
    n = forced > 0 ? (size_t)forced : 0;
    if (n == 0) {
        source = FROM_SYSFS;
        n = cache_from_sysfs(level);
    }
    if (n == 0 && sysconf_name >= 0) {
        source = FROM_CPUID;
        long v = sysconf((int)sysconf_name);
        n = v > 0 ? (size_t)v : 0;
        if (level == 3) n = or_cpu_l3_from_sysconf(n, l3_cap());
    }
    if (from) atomic_store(from, n ? source : FROM_NONE);
    atomic_store(cached, n);
    return n;
}

#ifdef _SC_LEVEL3_CACHE_SIZE
#define SC_L2 _SC_LEVEL2_CACHE_SIZE
#define SC_L3 _SC_LEVEL3_CACHE_SIZE
#else
#define SC_L2 (-1)
#define SC_L3 (-1)
#endif

size_t or_cpu_l2_bytes(void) {
    return cache_bytes(&cached_l2, NULL, 2, SC_L2);
}

size_t or_cpu_l3_bytes(void) {
    return cache_bytes(&cached_l3, &l3_from, 3, SC_L3);
}

const char *or_cpu_l3_source(void) {
    static const char *const names[] = {"none", "env", "sysfs", "cpuid"};
    or_cpu_l3_bytes();
    return names[atomic_load(&l3_from)];
}

const char *or_isa_name(or_isa isa) {
    switch (isa) {
    case OR_ISA_AVX2:
        return "avx2";
    case OR_ISA_AVX512:
        return "avx512";
    case OR_ISA_NEON:
        return "neon";
    default:
        return "scalar";
    }
}
