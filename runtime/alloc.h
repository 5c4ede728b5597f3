/* The library's allocation functions. Every allocation onnxrun makes goes
 * through these (never malloc/free directly), so that a session's custom
 * allocator and memory cap (onnxrun_options) govern all of its memory.
 * or_aligned_alloc's blocks are released with or_free like any other. */
#ifndef OR_ALLOC_H
#define OR_ALLOC_H

#include <stddef.h>

void *or_malloc(size_t size);
void *or_calloc(size_t count, size_t size);
void *or_realloc(void *ptr, size_t size);
void *or_aligned_alloc(size_t alignment, size_t size);
void or_free(void *ptr);
char *or_strdup(const char *s);

#endif
