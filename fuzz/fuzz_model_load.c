/* libFuzzer target: model loading, validation and load-time planning from a
 * buffer (onnxrun_session_create_from_buffer), then the signature queries a
 * caller makes, under a 256 MiB memory cap. Any outcome but a crash, leak
 * or UB report is fine. */
#include "onnxrun.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    onnxrun_options opt;
    onnxrun_options_init(&opt);
    opt.max_memory_bytes = (size_t)256 << 20; /* a model may ask for more: it must fail cleanly */
    onnxrun_session *s = NULL;
    onnxrun_status st = onnxrun_session_create_from_buffer(data, size, NULL, &opt, &s);
    if (!s) return 0;
    (void)onnxrun_errmsg(s);
    if (st == ONNXRUN_OK) {
        onnxrun_tensor_info info;
        for (size_t i = 0; i < onnxrun_input_count(s); i++) (void)onnxrun_input_info(s, i, &info);
        for (size_t i = 0; i < onnxrun_output_count(s); i++) (void)onnxrun_output_info(s, i, &info);
    }
    onnxrun_session_destroy(s);
    return 0;
}
