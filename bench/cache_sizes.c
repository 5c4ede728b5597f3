/* Prints the cache sizes onnxrun's heuristics use on this machine and where
 * the L3's came from (or_cpu_l3_source), for the benchmark report:
 *   l2_kib 1024 l3_kib 32768 source env|sysfs|cpuid|none
 * (runtime/cpu.h: ONNXRUN_L2_BYTES / ONNXRUN_L3_BYTES, else sysfs, else
 * glibc's CPUID figure, the L3 capped on AMD). A misreported size changes
 * how R is read, so a report should say what the library saw. */
#include "cpu.h"

#include <stdio.h>

int main(void) {
    printf("l2_kib %zu l3_kib %zu source %s\n", or_cpu_l2_bytes() >> 10, or_cpu_l3_bytes() >> 10,
           or_cpu_l3_source());
    return 0;
}
