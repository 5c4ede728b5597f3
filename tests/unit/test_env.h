/* Environment helpers for unit tests that switch ONNXRUN_* variables: each
 * test puts back what the caller had set. */
#ifndef OR_TEST_ENV_H
#define OR_TEST_ENV_H

#include <stdlib.h>
#include <string.h>

/* Sets (or with NULL unsets) an environment variable, returning its old
 * value (malloc'ed, or NULL) for restore_env. */
static inline char *swap_env(const char *name, const char *value) {
    const char *old = getenv(name);
    char *saved = old ? strdup(old) : NULL;
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
    return saved;
}

static inline void restore_env(const char *name, char *saved) {
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
    free(saved);
}

#endif
