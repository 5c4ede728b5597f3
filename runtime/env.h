/* The ONNXRUN_* environment variables (README, "Environment variables"),
 * each parsed in this one place. A value that is not one of a variable's
 * listed values counts as unset, and or_env_problems names it (the CLI warns;
 * embedders call onnxrun_check_environment). */
#ifndef OR_ENV_H
#define OR_ENV_H

#include <stddef.h>
#include <stdint.h>

typedef enum or_env_var {
    OR_ENV_ISA,       /* index in "scalar", "avx2", "avx512", "neon" (or_isa order) */
    OR_ENV_L2_BYTES,  /* bytes, > 0 */
    OR_ENV_L3_BYTES,  /* bytes, > 0 */
    OR_ENV_STREAM_R,  /* 0 cached, 1 memory, 2 L3 */
    OR_ENV_HUGE_R,    /* 0 never, 1 always */
    OR_ENV_R_COPIES,  /* 1-8 */
    OR_ENV_RNN_FOLD,  /* 0 off, 1 where it applies (the default) */
    OR_ENV_RNN_TEAM,  /* 0-3 (recurrent_team.c) */
    OR_ENV_RNN_CHUNK, /* steps, >= 1 */
    OR_ENV_RNN_PIPE,  /* 0 off, 1 wherever it can run (recurrent_pipe.c) */
    OR_ENV_L3_SHARED, /* 0 no, 1 yes: every core shares one L3 (cpu.h) */
    OR_ENV_COUNT
} or_env_var;

/* The variable's value, or -1 when it is unset, empty or not valid. */
int64_t or_env_value(or_env_var var);
const char *or_env_name(or_env_var var);

/* How many ONNXRUN_* variables hold a value they do not accept. With size >
 * 0, message gets one line per such variable naming it, its value (control
 * characters shown as '?', cut after 64 characters) and what it accepts;
 * the whole cut to size, always terminated ("" when there is none). */
int or_env_problems(char *message, size_t size);

#endif
