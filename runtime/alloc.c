#include "alloc.h"

#include <stdlib.h>
#include <string.h>

void *or_malloc(size_t size) {
    return malloc(size ? size : 1);
}

void *or_calloc(size_t count, size_t size) {
    return calloc(count ? count : 1, size ? size : 1);
}

void *or_realloc(void *ptr, size_t size) {
    return realloc(ptr, size ? size : 1);
}

void *or_aligned_alloc(size_t alignment, size_t size) {
    void *p = NULL;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (posix_memalign(&p, alignment, size ? size : 1) != 0) return NULL;
    return p;
}

void or_free(void *ptr) {
    free(ptr);
}

char *or_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = or_malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}
