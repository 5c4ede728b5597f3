/* Einsum equation parsing: terms, ellipses, implicit output (see the header).
 */
#include "einsum_parse.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One term as written: its letters and where "..." sits among them. */
typedef struct raw_term {
    int n;   /* letters */
    int ell; /* letters before the ellipsis, -1 without one */
    int8_t letter[OR_MAX_RANK];
} raw_term;

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

char or_einsum_label_char(int label) {
    if (label < 26) return (char)('A' + label);
    if (label < OR_EINSUM_ELL) return (char)('a' + label - 26);
    return '.';
}

static int letter_id(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    return -1;
}

/* Reads one term starting at *p; stops at ',', "->" or the end. */
static int read_term(const char **p, raw_term *t, char *err, size_t len) {
    const char *s = *p;
    t->n = 0;
    t->ell = -1;
    for (; *s && *s != ',' && !(s[0] == '-' && s[1] == '>'); s++) {
        if (*s == ' ' || *s == '\t') continue;
        if (*s == '.') {
            if (s[1] != '.' || s[2] != '.')
                return fail(err, len, "'.' must be part of an ellipsis \"...\"");
            if (t->ell >= 0) return fail(err, len, "a term has two ellipses");
            t->ell = t->n;
            s += 2;
            continue;
        }
        int id = letter_id(*s);
        if (id < 0) return fail(err, len, "invalid character '%c' (subscripts are letters)", *s);
        if (t->n == OR_MAX_RANK)
            return fail(err, len, "a term has more than %d subscripts", OR_MAX_RANK);
        t->letter[t->n++] = (int8_t)id;
    }
    *p = s;
    return 0;
}

/* Expands a term to one label per axis given the dims its ellipsis covers. */
static int expand(const raw_term *t, int ell_dims, int ell_rank, int8_t *lab) {
    int k = 0;
    for (int i = 0; i < t->n; i++) {
        if (i == t->ell)
            for (int j = 0; j < ell_dims; j++)
                lab[k++] = (int8_t)(OR_EINSUM_ELL + ell_rank - ell_dims + j);
        lab[k++] = t->letter[i];
    }
    if (t->ell == t->n)
        for (int j = 0; j < ell_dims; j++)
            lab[k++] = (int8_t)(OR_EINSUM_ELL + ell_rank - ell_dims + j);
    return k;
}

static int resolve_inputs(const raw_term *in, int n_in, const int *ranks, or_einsum_spec *s,
                          char *err, size_t len) {
    s->ell_rank = 0;
    for (int i = 0; i < n_in; i++) {
        int extra = ranks[i] - in[i].n;
        if (in[i].ell < 0 && extra != 0)
            return fail(err, len, "term %d has %d subscripts but input %d has rank %d", i, in[i].n,
                        i, ranks[i]);
        if (extra < 0)
            return fail(err, len, "term %d has %d subscripts but input %d has rank %d", i, in[i].n,
                        i, ranks[i]);
        if (extra > s->ell_rank) s->ell_rank = extra;
    }
    for (int i = 0; i < n_in; i++) {
        s->rank[i] = ranks[i];
        expand(&in[i], ranks[i] - in[i].n, s->ell_rank, s->lab[i]);
    }
    return 0;
}

static int implicit_output(or_einsum_spec *s, char *err, size_t len) {
    int count[OR_EINSUM_ELL] = {0};
    for (int i = 0; i < s->n_in; i++)
        for (int k = 0; k < s->rank[i]; k++)
            if (s->lab[i][k] < OR_EINSUM_ELL) count[s->lab[i][k]]++;
    int r = 0;
    for (int j = 0; j < s->ell_rank; j++) s->out[r++] = (int8_t)(OR_EINSUM_ELL + j);
    for (int l = 0; l < OR_EINSUM_ELL; l++) {
        if (count[l] != 1) continue;
        if (r == OR_MAX_RANK) return fail(err, len, "output would have rank > %d", OR_MAX_RANK);
        s->out[r++] = (int8_t)l;
    }
    s->out_rank = r;
    return 0;
}

static int explicit_output(const raw_term *t, or_einsum_spec *s, char *err, size_t len) {
    bool used[OR_EINSUM_ELL] = {false}, seen[OR_EINSUM_ELL] = {false};
    for (int i = 0; i < s->n_in; i++)
        for (int k = 0; k < s->rank[i]; k++)
            if (s->lab[i][k] < OR_EINSUM_ELL) used[s->lab[i][k]] = true;
    for (int i = 0; i < t->n; i++) {
        int l = t->letter[i];
        if (!used[l])
            return fail(err, len, "output subscript '%c' appears in no input",
                        or_einsum_label_char(l));
        if (seen[l])
            return fail(err, len, "output subscript '%c' is repeated", or_einsum_label_char(l));
        seen[l] = true;
    }
    if (t->ell < 0 && s->ell_rank > 0)
        return fail(err, len, "inputs use an ellipsis but the output has none");
    if (t->n + s->ell_rank > OR_MAX_RANK)
        return fail(err, len, "output would have rank > %d", OR_MAX_RANK);
    s->out_rank = expand(t, t->ell < 0 ? 0 : s->ell_rank, s->ell_rank, s->out);
    return 0;
}

int or_einsum_parse(const char *eq, int n_in, const int *ranks, or_einsum_spec *s, char *err,
                    size_t errlen) {
    raw_term in[OR_EINSUM_MAX_IN], out;
    if (n_in < 1 || n_in > OR_EINSUM_MAX_IN)
        return fail(err, errlen, "%d inputs given; 1 to %d supported", n_in, OR_EINSUM_MAX_IN);
    const char *p = eq;
    int terms = 0;
    for (;;) {
        if (terms == n_in)
            return fail(err, errlen, "more input terms than the node's %d inputs", n_in);
        if (read_term(&p, &in[terms++], err, errlen) < 0) return -1;
        if (*p != ',') break;
        p++;
    }
    if (terms != n_in)
        return fail(err, errlen, "%d input terms but the node has %d inputs", terms, n_in);
    bool arrow = *p == '-';
    if (arrow) {
        p += 2;
        if (read_term(&p, &out, err, errlen) < 0) return -1;
        if (*p) return fail(err, errlen, "unexpected '%c' in the output term", *p);
    }
    s->n_in = n_in;
    if (resolve_inputs(in, n_in, ranks, s, err, errlen) < 0) return -1;
    return arrow ? explicit_output(&out, s, err, errlen) : implicit_output(s, err, errlen);
}
