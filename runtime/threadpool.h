/* A persistent pool of worker threads for intra-op parallelism. */
#ifndef OR_THREADPOOL_H
#define OR_THREADPOOL_H

#include <stdint.h>

typedef struct or_threadpool or_threadpool;

/* Splits [0, n) into chunks of at least `grain` items. thread_index is in
 * [0, or_threadpool_size(pool)). */
typedef void (*or_task_fn)(void *ctx, int64_t begin, int64_t end, int thread_index);

/* NULL on failure. threads <= 1 creates no worker threads. */
or_threadpool *or_threadpool_create(int threads);
void or_threadpool_destroy(or_threadpool *pool);
int or_threadpool_size(const or_threadpool *pool); /* 1 for a NULL pool */
/* Runs fn over [0, n) split across the pool (calling thread included);
 * returns when every chunk is done. pool may be NULL (runs inline). */
void or_parallel_for(or_threadpool *pool, int64_t n, int64_t grain, or_task_fn fn, void *ctx);

#endif
