/* Streaming state: graph outputs fed back into graph inputs between runs
 * (an LSTM's Y_h/Y_c into its initial_h/initial_c), so that a long sequence
 * can be run in chunks. Each state owns one buffer that its input reads
 * during a run; after the run the output's bytes are copied into it (states
 * are small: batch x hidden). */
#include "session_internal.h"

#include <stdio.h>
#include <string.h>

#define set_error or_session_error

int or_state_of_input(const onnxrun_session *s, size_t input) {
    for (int k = 0; k < s->n_states; k++)
        if (s->states[k].input == input) return k;
    return -1;
}

static int state_of_output(const onnxrun_session *s, size_t output) {
    for (int k = 0; k < s->n_states; k++)
        if (s->states[k].output == output) return k;
    return -1;
}

static onnxrun_dtype state_dtype(const onnxrun_session *s, const or_state *st) {
    onnxrun_dtype in = s->inputs[st->input].dtype;
    return in != ONNXRUN_UNDEFINED ? in : s->outputs[st->output].dtype;
}

static onnxrun_status check_pair(onnxrun_session *s, size_t out, size_t in) {
    const onnxrun_tensor_info *o = &s->outputs[out], *i = &s->inputs[in];
    char a[128], b[128];
    if (o->dtype != ONNXRUN_UNDEFINED && i->dtype != ONNXRUN_UNDEFINED && o->dtype != i->dtype)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "state '%s' -> '%s': output is %s, input is %s",
                         o->name, i->name, or_dtype_name(o->dtype), or_dtype_name(i->dtype));
    if (o->dtype == ONNXRUN_UNDEFINED && i->dtype == ONNXRUN_UNDEFINED)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "state '%s' -> '%s': the dtype is not declared",
                         o->name, i->name);
    bool mismatch = o->rank >= 0 && i->rank >= 0 && o->rank != i->rank;
    for (int d = 0; !mismatch && o->rank >= 0 && d < o->rank && d < i->rank; d++)
        mismatch = o->dims[d] >= 0 && i->dims[d] >= 0 && o->dims[d] != i->dims[d];
    if (mismatch)
        return set_error(s, ONNXRUN_ERR_ARGUMENT,
                         "state '%s' -> '%s': output shape %s does not match input shape %s",
                         o->name, i->name, or_shape_str(o->rank, o->dims, a, sizeof a),
                         or_shape_str(i->rank, i->dims, b, sizeof b));
    return ONNXRUN_OK;
}

static onnxrun_status bind_state(onnxrun_session *s, size_t out, size_t in) {
    if (out >= (size_t)s->graph->n_outputs || in >= (size_t)s->graph->n_inputs)
        return set_error(s, ONNXRUN_ERR_ARGUMENT,
                         "state output %zu / input %zu out of range (%d outputs, %d inputs)", out,
                         in, s->graph->n_outputs, s->graph->n_inputs);
    int k_in = or_state_of_input(s, in), k_out = state_of_output(s, out);
    if (k_in >= 0 && k_in == k_out) return or_session_ok(s);
    if (k_in >= 0 || k_out >= 0)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "'%s' is already bound to a state",
                         k_in >= 0 ? s->inputs[in].name : s->outputs[out].name);
    onnxrun_status status = check_pair(s, out, in);
    if (status != ONNXRUN_OK) return status;
    or_state *grown = or_realloc(s->states, sizeof *grown * (size_t)(s->n_states + 1));
    if (!grown) return set_error(s, ONNXRUN_ERR_NOMEM, "out of memory binding a state");
    s->states = grown;
    s->states[s->n_states++] = (or_state){.output = out, .input = in};
    s->bound[in] = false;
    or_tensor *o = &s->graph->tensors[s->graph->outputs[out]];
    o->external = o->kind == OR_T_ACTIVATION; /* kept out of the arena from the next plan on */
    return or_session_ok(s);
}

onnxrun_status onnxrun_bind_state(onnxrun_session *s, size_t output_index, size_t input_index) {
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    or_mem *previous = or_mem_enter(s->mem);
    onnxrun_status status = or_session_finish(s, bind_state(s, output_index, input_index));
    or_mem_leave(previous);
    return status;
}

onnxrun_status onnxrun_reset_state(onnxrun_session *s) {
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    for (int k = 0; k < s->n_states; k++) s->states[k].valid = false;
    s->outputs_valid = s->outputs_valid && s->n_states == 0; /* state outputs alias the states */
    return or_session_ok(s);
}

static bool reserve_buffer(void **buf, size_t *cap, size_t nbytes) {
    if (nbytes <= *cap && *buf) return true;
    void *grown = or_malloc(nbytes ? nbytes : 1);
    if (!grown) return false;
    or_free(*buf);
    *buf = grown;
    *cap = nbytes;
    return true;
}

static bool reserve(or_state *st, size_t nbytes) {
    return reserve_buffer(&st->buf, &st->buf_cap, nbytes);
}

onnxrun_status or_state_set_value(onnxrun_session *s, int k, onnxrun_dtype dtype, int rank,
                                  const int64_t *dims, const void *data, size_t nbytes) {
    (void)dtype;
    or_state *st = &s->states[k];
    if (!reserve(st, nbytes))
        return set_error(s, ONNXRUN_ERR_NOMEM, "out of memory for state '%s' (%zu bytes)",
                         s->inputs[st->input].name, nbytes);
    if (nbytes) memcpy(st->buf, data, nbytes);
    st->nbytes = nbytes;
    st->rank = rank;
    for (int d = 0; d < rank; d++) st->dims[d] = dims[d];
    st->valid = true;
    return or_session_ok(s);
}

/* The value of a symbolic dimension from a bound (non-state) input that has
 * a dimension of the same name; -1 when none does. */
static int64_t named_dim(const onnxrun_session *s, const char *name) {
    if (!name) return -1;
    for (int i = 0; i < s->graph->n_inputs; i++) {
        if (!s->bound[i] || or_state_of_input(s, (size_t)i) >= 0) continue;
        const onnxrun_tensor_info *decl = &s->inputs[i];
        const or_tensor *t = &s->graph->tensors[s->graph->inputs[i]];
        for (int d = 0; d < decl->rank && d < t->rank; d++)
            if (decl->dim_names[d] && strcmp(decl->dim_names[d], name) == 0) return t->dims[d];
    }
    return -1;
}

/* A state whose shape names a dimension must agree with this run's inputs. */
static onnxrun_status check_named_dims(onnxrun_session *s, const or_state *st) {
    const onnxrun_tensor_info *decl = &s->inputs[st->input];
    for (int d = 0; d < decl->rank && d < st->rank; d++) {
        int64_t v = decl->dims[d] < 0 ? named_dim(s, decl->dim_names[d]) : -1;
        if (v < 0 || v == st->dims[d]) continue;
        return set_error(s, ONNXRUN_ERR_INPUT,
                         "state '%s': dimension '%s' is %lld in the state but %lld in this run's "
                         "inputs (call onnxrun_reset_state when the batch changes)",
                         decl->name, decl->dim_names[d], (long long)st->dims[d], (long long)v);
    }
    return ONNXRUN_OK;
}

/* Zeros of the declared shape, symbolic dimensions taken from the inputs. */
static onnxrun_status start_state(onnxrun_session *s, or_state *st) {
    const onnxrun_tensor_info *decl = &s->inputs[st->input];
    if (decl->rank < 0)
        return set_error(s, ONNXRUN_ERR_INPUT,
                         "state '%s' has no declared shape: give its first value with "
                         "onnxrun_set_input",
                         decl->name);
    for (int d = 0; d < decl->rank; d++) {
        st->dims[d] = decl->dims[d] >= 0 ? decl->dims[d] : named_dim(s, decl->dim_names[d]);
        if (st->dims[d] < 0)
            return set_error(s, ONNXRUN_ERR_INPUT,
                             "state '%s': dimension %d (%s) is not known from the other inputs: "
                             "give its first value with onnxrun_set_input",
                             decl->name, d, decl->dim_names[d] ? decl->dim_names[d] : "unnamed");
    }
    st->rank = decl->rank;
    int64_t numel = or_shape_numel(st->rank, st->dims);
    size_t elem = or_dtype_size(state_dtype(s, st));
    if (numel < 0 || elem == 0 || (uint64_t)numel > SIZE_MAX / elem)
        return set_error(s, ONNXRUN_ERR_INPUT, "state '%s': invalid shape", decl->name);
    st->nbytes = (size_t)numel * elem;
    if (!reserve(st, st->nbytes))
        return set_error(s, ONNXRUN_ERR_NOMEM, "out of memory for state '%s' (%zu bytes)",
                         decl->name, st->nbytes);
    memset(st->buf, 0, st->nbytes);
    st->valid = true;
    return ONNXRUN_OK;
}

onnxrun_status or_states_bind(onnxrun_session *s) {
    for (int k = 0; k < s->n_states; k++) {
        or_state *st = &s->states[k];
        onnxrun_status status = st->valid ? check_named_dims(s, st) : start_state(s, st);
        if (status != ONNXRUN_OK) return status;
        or_tensor *t = &s->graph->tensors[s->graph->inputs[st->input]];
        t->dtype = (int)state_dtype(s, st);
        t->rank = st->rank;
        memcpy(t->dims, st->dims, sizeof st->dims);
        t->data = st->buf;
        t->nbytes = st->nbytes;
        s->bound[st->input] = true;
    }
    return ONNXRUN_OK;
}

static onnxrun_status check_advance(onnxrun_session *s, const or_state *st) {
    const or_tensor *o = &s->graph->tensors[s->graph->outputs[st->output]];
    bool same = o->dtype == (int)state_dtype(s, st) && o->rank == st->rank &&
                memcmp(o->dims, st->dims, sizeof(int64_t) * (size_t)st->rank) == 0;
    if (same) return ONNXRUN_OK;
    char a[128], b[128];
    return set_error(s, ONNXRUN_ERR_INPUT,
                     "state '%s' -> '%s': the output is %s %s but the state is %s %s", o->name,
                     s->inputs[st->input].name, or_dtype_name(o->dtype),
                     or_shape_str(o->rank, o->dims, a, sizeof a), or_dtype_name(state_dtype(s, st)),
                     or_shape_str(st->rank, st->dims, b, sizeof b));
}

onnxrun_status or_states_attach_outputs(onnxrun_session *s) {
    for (int k = 0; k < s->n_states; k++) {
        or_state *st = &s->states[k];
        onnxrun_status status = check_advance(s, st);
        if (status != ONNXRUN_OK) return status;
        if (!reserve_buffer(&st->next, &st->next_cap, st->nbytes))
            return set_error(s, ONNXRUN_ERR_NOMEM, "out of memory for state '%s' (%zu bytes)",
                             s->inputs[st->input].name, st->nbytes);
        or_tensor *o = &s->graph->tensors[s->graph->outputs[st->output]];
        if (o->external && !o->is_static) o->data = st->next;
    }
    return ONNXRUN_OK;
}

void or_states_advance(onnxrun_session *s) {
    for (int k = 0; k < s->n_states; k++) {
        or_state *st = &s->states[k];
        const or_tensor *o = &s->graph->tensors[s->graph->outputs[st->output]];
        /* An output the planner computed, or a graph input passed through,
         * lives elsewhere: the one case that needs a copy. */
        if (o->data != st->next && st->nbytes) memmove(st->next, o->data, st->nbytes);
        void *buf = st->buf;
        size_t cap = st->buf_cap;
        st->buf = st->next;
        st->buf_cap = st->next_cap;
        st->next = buf;
        st->next_cap = cap;
    }
}

void or_states_free(onnxrun_session *s) {
    for (int k = 0; k < s->n_states; k++) {
        or_free(s->states[k].buf);
        or_free(s->states[k].next);
    }
    or_free(s->states);
    s->states = NULL;
    s->n_states = 0;
}
