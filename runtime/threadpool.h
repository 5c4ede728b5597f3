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

/* A team job: fn(ctx, member, members) runs once for every member in
 * [0, members), each on its own thread and all at the same time, so members
 * may wait for each other (or_barrier_wait). members is capped at the pool
 * size; returns when every member has returned. Not to be nested inside a
 * pool job. */
typedef void (*or_team_fn)(void *ctx, int member, int members);
void or_threadpool_team(or_threadpool *pool, int members, or_team_fn fn, void *ctx);

/* Sense-reversing spin barrier for the members of one team job: spins
 * briefly, then yields the CPU so an oversubscribed machine does not
 * livelock. Each member keeps its own `sense`, 0 before the first wait. */
typedef struct or_barrier {
    _Atomic int count; /* members arrived in the current round */
    _Atomic int sense; /* flips when a round completes */
    int members;
} or_barrier;
void or_barrier_init(or_barrier *b, int members);
void or_barrier_wait(or_barrier *b, int *sense);

/* CLOCK_MONOTONIC in nanoseconds: the deadlines of spin-waits (pool workers,
 * the recurrent team engine). */
int64_t or_now_ns(void);

#endif
