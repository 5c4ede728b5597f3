/* Persistent worker pool. A parallel_for publishes one job; workers and the
 * caller take chunks from an atomic counter. Workers spin briefly before
 * sleeping because recurrent steps issue many small jobs back to back.
 *
 * The caller never waits for a worker that has not started: once it has run
 * out of chunks it closes the job and waits only for the workers that joined
 * it. On a busy machine a descheduled worker then costs nothing (the caller
 * just does all chunks) instead of a time slice per job. Joining is checked
 * Dekker-style: a worker counts itself in `active`, then re-reads `state`;
 * the caller closes `state`, then reads `active` (both seq_cst), so either
 * the worker sees the job closed or the caller sees the worker. */
#include "alloc.h"
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define SPIN_ITERATIONS 20000

struct or_threadpool {
    int n_threads; /* including the caller */
    pthread_t *workers;
    /* [n_threads - 1] worker_arg, freed here: memory from a session's context
     * must be freed by the thread that has the context (runtime/alloc.h). */
    void *worker_args;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t finished;
    atomic_ullong state; /* job id << 1 | 1 while the job takes new workers */
    atomic_int active;   /* workers inside the current job */
    atomic_bool stop;

    /* The current job. */
    or_task_fn fn;
    void *ctx;
    int64_t n, chunk;
    atomic_llong next;
};

static void run_chunks(or_threadpool *pool, int thread_index) {
    for (;;) {
        int64_t begin = atomic_fetch_add(&pool->next, pool->chunk);
        if (begin >= pool->n) break;
        int64_t end = begin + pool->chunk < pool->n ? begin + pool->chunk : pool->n;
        pool->fn(pool->ctx, begin, end, thread_index);
    }
}

typedef struct {
    or_threadpool *pool;
    int index;
} worker_arg;

/* How long an idle worker spins for the next job before it sleeps. Waking a
 * sleeping thread costs far more than a step: on a 2-core VM, 1-5 ms before
 * a worker that slept joins (LSTM hidden 128 ran 0.8 ms back to back, 1-5 ms
 * after a pause), so the calls of a loop that runs a model again within this
 * time find their workers awake. onnxruntime's pool spins 20-110 ms. Past
 * SPIN_ITERATIONS the spin yields the CPU on every turn: with 8 threads on 2
 * cores, GRU hidden 256 (2 layers) ran in 7.6 ms instead of 22 ms spinning
 * hard (3.2-4.5 ms either way with 2 threads). */
#define WORKER_SPIN_NS 2000000

int64_t or_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Blocks until a job newer than `seen` is published (or stop); returns its state. */
static unsigned long long wait_for_job(or_threadpool *pool, unsigned long long seen) {
    unsigned long long st = atomic_load(&pool->state);
    int64_t until = 0;
    for (int spin = 0; st >> 1 == seen; spin++) {
        if (atomic_load(&pool->stop)) return st;
        if (spin >= SPIN_ITERATIONS) {
            /* Past a short pure spin, yield each time: with more threads than
             * cores, the threads that have work get the CPU. */
            int64_t now = or_now_ns();
            if (!until) until = now + WORKER_SPIN_NS;
            if (now > until) break;
            sched_yield();
        }
        st = atomic_load(&pool->state);
    }
    if (st >> 1 == seen) {
        pthread_mutex_lock(&pool->lock);
        while ((st = atomic_load(&pool->state)) >> 1 == seen && !atomic_load(&pool->stop))
            pthread_cond_wait(&pool->wake, &pool->lock);
        pthread_mutex_unlock(&pool->lock);
    }
    return st;
}

static void *worker_main(void *arg_) {
    worker_arg *arg = arg_;
    or_threadpool *pool = arg->pool;
    int index = arg->index;
    unsigned long long seen = 0;
    for (;;) {
        unsigned long long st = wait_for_job(pool, seen);
        if (atomic_load(&pool->stop)) return NULL;
        seen = st >> 1;
        if (!(st & 1)) continue; /* closed before we got here */
        atomic_fetch_add(&pool->active, 1);
        if (atomic_load(&pool->state) == st) run_chunks(pool, index);
        if (atomic_fetch_sub(&pool->active, 1) == 1) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->finished);
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

or_threadpool *or_threadpool_create(int threads) {
    or_threadpool *pool = or_calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = threads > 1 ? threads : 1;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->finished, NULL);
    if (pool->n_threads > 1) {
        pool->workers = or_calloc((size_t)pool->n_threads - 1, sizeof(pthread_t));
        worker_arg *args = or_calloc((size_t)pool->n_threads - 1, sizeof *args);
        pool->worker_args = args;
        if (!pool->workers || !args) goto fail;
        for (int i = 1; i < pool->n_threads; i++) {
            worker_arg *arg = &args[i - 1];
            arg->pool = pool;
            arg->index = i;
            if (pthread_create(&pool->workers[i - 1], NULL, worker_main, arg) != 0)
                goto fail_started;
            continue;
        fail_started:
            pool->n_threads = i; /* only the started ones are joined */
            or_threadpool_destroy(pool);
            return NULL;
        }
    }
    return pool;
fail:
    or_free(pool->workers);
    or_free(pool->worker_args);
    or_free(pool);
    return NULL;
}

void or_threadpool_destroy(or_threadpool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, true);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->workers[i - 1], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->finished);
    or_free(pool->workers);
    or_free(pool->worker_args);
    or_free(pool);
}

int or_threadpool_size(const or_threadpool *pool) {
    return pool ? pool->n_threads : 1;
}

void or_parallel_for(or_threadpool *pool, int64_t n, int64_t grain, or_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (!pool || pool->n_threads == 1 || n <= grain) {
        fn(ctx, 0, n, 0);
        return;
    }
    int64_t chunk = (n + pool->n_threads - 1) / pool->n_threads;
    if (chunk < grain) chunk = grain;
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n = n;
    pool->chunk = chunk;
    atomic_store(&pool->next, 0);
    unsigned long long id = (atomic_load(&pool->state) >> 1) + 1;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->state, id << 1 | 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    run_chunks(pool, 0);
    atomic_store(&pool->state, id << 1); /* close: late workers leave the chunks alone */
    for (int spin = 0; atomic_load(&pool->active) > 0 && spin < SPIN_ITERATIONS; spin++)
        sched_yield();
    if (atomic_load(&pool->active) > 0) {
        pthread_mutex_lock(&pool->lock);
        while (atomic_load(&pool->active) > 0) pthread_cond_wait(&pool->finished, &pool->lock);
        pthread_mutex_unlock(&pool->lock);
    }
}

/* Every member must get its own thread: a member blocked in a barrier keeps
 * its thread, so chunks of one member each (chunk = 1 since members <= the
 * pool size) are claimed one by one by the caller and by the workers, and the
 * caller cannot close the job (or return) before all of them are claimed and
 * done. The caller may only run several members itself when none waits for
 * another. */
typedef struct team_job {
    or_team_fn fn;
    void *ctx;
    int members;
} team_job;

static void team_run(void *ctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const team_job *job = ctx;
    for (int64_t m = begin; m < end; m++) job->fn(job->ctx, (int)m, job->members);
}

void or_threadpool_team(or_threadpool *pool, int members, or_team_fn fn, void *ctx) {
    int size = or_threadpool_size(pool);
    if (members > size) members = size;
    if (members < 1) members = 1;
    team_job job = {fn, ctx, members};
    if (members == 1) {
        fn(ctx, 0, 1);
        return;
    }
    or_parallel_for(pool, members, 1, team_run, &job);
}

/* Spins before yielding: a step of a recurrent team is a few microseconds. */
#define BARRIER_SPINS 4000

void or_barrier_init(or_barrier *b, int members) {
    atomic_init(&b->count, 0);
    atomic_init(&b->sense, 0);
    b->members = members;
}

void or_barrier_wait(or_barrier *b, int *sense) {
    int want = !*sense;
    *sense = want;
    if (b->members <= 1) return;
    if (atomic_fetch_add(&b->count, 1) == b->members - 1) {
        atomic_store(&b->count, 0);
        atomic_store(&b->sense, want); /* releases the others (seq_cst) */
        return;
    }
    for (int spin = 0; atomic_load(&b->sense) != want; spin++)
        if (spin >= BARRIER_SPINS) sched_yield();
}
