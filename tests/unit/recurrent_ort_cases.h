/* Reference cases for test_recurrent.c: inputs drawn at random (2 decimals),
 * expected outputs computed by onnxruntime 1.30.0 (CPU, onnxruntime-node) on
 * single-node models with these attributes. Included by test_recurrent.c only. */
#ifndef RECURRENT_ORT_CASES_H
#define RECURRENT_ORT_CASES_H

#include <math.h>
#include <stdint.h>
#include <stddef.h>

static const float lstm_bidi_all_X[] = {
    0.25f,        0.79000002f, 0.55000001f,   -0.55000001f,  -0.40000001f, 0.75f,
    -0.99000001f, 0.63999999f, 0.58999997f,   -0.059999999f, -0.38999999f, -0.44f,
    -0.49000001f, -0.11f,      0.0099999998f, 0.11f,         0.99000001f,  0.58999997f};
static const float lstm_bidi_all_W[] = {
    0.2f,           0.77999997f,  -0.46000001f,  -0.54000002f, 0.18000001f,  -0.73000002f,
    -0.74000001f,   0.02f,        -0.050000001f, 0.67000002f,  0.20999999f,  0.02f,
    -0.0099999998f, -0.40000001f, -0.77999997f,  -0.49000001f, 0.31f,        -0.47999999f,
    -0.20999999f,   -0.79000002f, 0.52999997f,   -0.55000001f, -0.37f,       0.61000001f,
    0.02f,          0.56f,        0.22f,         0.38999999f,  -0.64999998f, 0.07f,
    0.0099999998f,  0.58999997f,  -0.22f,        0.16f,        -0.70999998f, -0.18000001f,
    -0.28f,         -0.56f,       0.50999999f,   -0.19f,       0.76999998f,  0.14f,
    0.17f,          0.22f,        0.28f,         -0.56f,       -0.1f,        -0.41999999f};
static const float lstm_bidi_all_R[] = {
    -0.16f,       -0.64999998f, 0.75f,         -0.46000001f, 0.27000001f,  -0.31999999f,
    0.60000002f,  0.25999999f,  -0.58999997f,  0.55000001f,  0.70999998f,  0.64999998f,
    0.11f,        -0.56999999f, -0.49000001f,  0.68000001f,  0.079999998f, -0.50999999f,
    0.61000001f,  0.23f,        0.11f,         -0.2f,        -0.14f,       -0.41999999f,
    -0.74000001f, 0.60000002f,  -0.050000001f, 0.079999998f, -0.28f,       0.40000001f,
    -0.75999999f, -0.2f};
static const float lstm_bidi_all_B[] = {
    -0.47f,       -0.38f,        0.47f,         0.16f,        -0.07f,       0.02f,
    0.37f,        -0.16f,        0.090000004f,  0.18000001f,  -0.14f,       0.02f,
    0.27000001f,  0.41f,         -0.34999999f,  0.43000001f,  -0.49000001f, 0.25f,
    0.31f,        -0.36000001f,  -0.079999998f, 0.31999999f,  -0.49000001f, 0.13f,
    0.28999999f,  0.0099999998f, 0.23f,         -0.27000001f, -0.30000001f, -0.14f,
    -0.31999999f, -0.15000001f};
static const int32_t lstm_bidi_all_sequence_lens[] = {3, 1};
static const float lstm_bidi_all_initial_h[] = {0.89999998f,  0.15000001f, -0.31999999f,
                                                -0.46000001f, 0.89999998f, -0.11f,
                                                0.95999998f,  0.029999999f};
static const float lstm_bidi_all_initial_c[] = {0.039999999f, 0.79000002f,  0.49000001f,
                                                0.16f,        -0.15000001f, 0.75999999f,
                                                -0.18000001f, 0.85000002f};
static const float lstm_bidi_all_P[] = {-0.43000001f, -0.07f, 0.02f, 0.44999999f, -0.25f, 0.31f,
                                        0.18000001f,  0.22f,  0.13f, 0.47f,       -0.17f, -0.1f};
static const float lstm_bidi_all_out_Y[] = {
    -0.079839826f, 0.31866845f,  0.26063311f,   0.1261263f,   -0.030236179f, 0.016685285f,
    -0.044985872f, 0.05247774f,  -0.084456958f, 0.28912315f,  0.0f,          0.0f,
    -0.041953344f, 0.030313157f, 0.0f,          0.0f,         -0.038358394f, 0.35744393f,
    0.0f,          0.0f,         -0.037104778f, 0.058221281f, 0.0f,          0.0f};
static const float lstm_bidi_all_out_Y_h[] = {-0.038358394f, 0.35744393f,   0.26063311f,
                                              0.1261263f,    -0.030236179f, 0.016685285f,
                                              -0.044985872f, 0.05247774f};
static const float lstm_bidi_all_out_Y_c[] = {-0.060050011f, 0.77453214f, 0.40295988f,  0.32967526f,
                                              -0.047685347f, 0.13486132f, -0.10105336f, 0.2548582f};
static const float lstm_input_forget_X[] = {
    -0.58999997f, -0.89999998f,  -0.56999999f, 0.82999998f, 0.68000001f,  -0.77999997f,
    0.20999999f,  -0.039999999f, 0.19f,        0.31999999f, -0.38999999f, 0.92000002f,
    -0.07f,       0.25999999f,   0.27000001f,  -0.63f,      -0.88f,       -0.18000001f};
static const float lstm_input_forget_W[] = {
    0.41999999f,  0.5f,         0.37f,        -0.62f,       0.66000003f,  0.47999999f,
    0.60000002f,  0.039999999f, 0.67000002f,  -0.73000002f, -0.75f,       -0.76999998f,
    -0.40000001f, -0.40000001f, -0.5f,        0.11f,        -0.74000001f, 0.14f,
    -0.52999997f, 0.28f,        -0.76999998f, -0.30000001f, 0.69999999f,  0.059999999f};
static const float lstm_input_forget_R[] = {0.5f,        0.25f,        0.18000001f,  -0.49000001f,
                                            0.12f,       -0.74000001f, 0.47999999f,  0.74000001f,
                                            0.56999999f, -0.72000003f, -0.25999999f, -0.28999999f,
                                            -0.62f,      0.2f,         0.47999999f,  -0.30000001f};
static const int32_t lstm_input_forget_sequence_lens[] = {2, 0};
static const float lstm_input_forget_out_Y_h[] = {-0.041526966f, -0.033618387f, 0.0f, 0.0f};
static const float lstm_input_forget_out_Y_c[] = {-0.076734148f, -0.087295428f, 0.0f, 0.0f};
static const float gru_reverse_reset_X[] = {
    0.73000002f, 0.58999997f, -0.74000001f, 0.52999997f, 0.76999998f, -0.61000001f,
    0.15000001f, 0.28f,       0.22f,        -0.81f,      0.31999999f, 0.25999999f,
    0.64999998f, 0.61000001f, -0.34999999f, 0.44f,       0.73000002f, 0.79000002f};
static const float gru_reverse_reset_W[] = {
    -0.54000002f, -0.75999999f, 0.23999999f, -0.46000001f, 0.1f,         0.70999998f,
    -0.19f,       -0.40000001f, -0.07f,      0.25f,        -0.63999999f, -0.19f,
    -0.58999997f, 0.25999999f,  0.52999997f, -0.2f,        -0.20999999f, 0.059999999f};
static const float gru_reverse_reset_R[] = {-0.46000001f, -0.40000001f, -0.27000001f, -0.07f,
                                            -0.67000002f, 0.40000001f,  0.13f,        -0.31999999f,
                                            -0.68000001f, 0.41999999f,  -0.58999997f, -0.58999997f};
static const float gru_reverse_reset_B[] = {-0.37f, -0.41999999f, 0.41f,  -0.23f,
                                            -0.19f, 0.33000001f,  0.12f,  -0.31f,
                                            -0.07f, 0.38f,        -0.12f, 0.20999999f};
static const int32_t gru_reverse_reset_sequence_lens[] = {1, 3};
static const float gru_reverse_reset_initial_h[] = {-0.81f, 0.44999999f, 0.55000001f, 0.64999998f};
static const float gru_reverse_reset_out_Y[] = {
    -0.56173831f, 0.41233444f, -0.47535458f, 0.12384138f, 0.0f,        0.0f,
    0.24592838f,  0.40112895f, 0.0f,         0.0f,        0.09106449f, 0.28042111f};
static const float gru_reverse_reset_out_Y_h[] = {-0.56173831f, 0.41233444f, -0.47535458f,
                                                  0.12384138f};
static const float gru_bidi_lbr_X[] = {
    0.34999999f, -0.25999999f, -0.87f, 0.039999999f, 0.50999999f, -0.62f,
    -0.47f,      0.07f,        0.5f,   0.79000002f,  -0.75f,      -0.63f,
    0.60000002f, 0.28999999f,  0.44f,  0.99000001f,  0.88f,       0.69f};
static const float gru_bidi_lbr_W[] = {
    0.44f,        -0.17f,        0.23f,        -0.5f,         0.41999999f,  0.41f,
    0.34999999f,  -0.090000004f, -0.19f,       -0.13f,        -0.75f,       0.55000001f,
    0.07f,        -0.18000001f,  0.079999998f, 0.34999999f,   -0.19f,       0.52999997f,
    0.67000002f,  -0.18000001f,  -0.57999998f, 0.41999999f,   0.79000002f,  -0.56f,
    0.34f,        0.51999998f,   0.67000002f,  -0.60000002f,  -0.64999998f, 0.77999997f,
    -0.61000001f, -0.51999998f,  0.12f,        -0.090000004f, 0.40000001f,  -0.5f};
static const float gru_bidi_lbr_R[] = {
    0.66000003f,  -0.44999999f,  0.43000001f,  -0.69f,       -0.039999999f, -0.75f,
    -0.30000001f, -0.30000001f,  0.34999999f,  -0.07f,       -0.70999998f,  0.79000002f,
    0.62f,        0.67000002f,   -0.41f,       -0.17f,       -0.44f,        -0.60000002f,
    -0.75f,       0.0099999998f, -0.60000002f, -0.51999998f, 0.57999998f,   -0.029999999f};
static const float gru_bidi_lbr_B[] = {
    -0.31999999f, 0.17f,         -0.23f,      0.029999999f, -0.22f,       0.02f,
    0.13f,        0.039999999f,  -0.1f,       0.28999999f,  0.37f,        -0.31999999f,
    -0.36000001f, -0.38999999f,  0.47999999f, 0.44f,        -0.27000001f, 0.47f,
    -0.28999999f, 0.0099999998f, -0.0f,       0.41f,        -0.46000001f, -0.18000001f};
static const float gru_bidi_lbr_initial_h[] = {0.2f,        -0.87f,      -0.52999997f, -0.07f,
                                               0.75999999f, 0.51999998f, 0.66000003f,  0.51999998f};
static const float gru_bidi_lbr_out_Y[] = {
    0.45073414f, -0.27281219f, 0.26737642f, 0.25696728f,   0.088613555f, 0.54761446f,
    0.13818327f, 0.67958438f,  0.56730795f, -0.048620299f, 0.50909221f,  0.5661847f,
    0.14391907f, 0.36758584f,  0.26218793f, 0.44941071f,   0.62675101f,  0.27815285f,
    0.57076156f, 0.76550627f,  0.42990804f, 0.46903694f,   0.36489853f,  0.49434185f};
static const float gru_bidi_lbr_out_Y_h[] = {0.62675101f,  0.27815285f, 0.57076156f, 0.76550627f,
                                             0.088613555f, 0.54761446f, 0.13818327f, 0.67958438f};
static const float rnn_bidi_affine_X[] = {
    0.41999999f, 0.69999999f,  0.36000001f,  0.47f,       -0.40000001f, -0.66000003f,
    0.50999999f, -0.67000002f, 0.83999997f,  0.19f,       -0.34f,       0.87f,
    -0.69f,      0.029999999f, -0.81999999f, 0.93000001f, 0.15000001f,  0.61000001f};
static const float rnn_bidi_affine_W[] = {-0.34999999f, 0.47999999f,  0.31999999f, 0.23f,
                                          0.72000003f,  -0.11f,       -0.14f,      0.31f,
                                          0.54000002f,  -0.25999999f, 0.27000001f, -0.47f};
static const float rnn_bidi_affine_R[] = {0.079999998f, 0.43000001f, -0.69999999f,  0.36000001f,
                                          -0.77999997f, 0.73000002f, -0.050000001f, -0.15000001f};
static const float rnn_bidi_affine_B[] = {0.22f,        0.02f,        0.23f,       -0.41999999f,
                                          0.059999999f, 0.059999999f, 0.43000001f, -0.46000001f};
static const int32_t rnn_bidi_affine_sequence_lens[] = {3, 2};
static const float rnn_bidi_affine_out_Y[] = {
    0.75419998f,  0.16100001f,  0.0f,          0.0f,          -0.2533344f, -0.45097357f,
    -0.88857597f, -0.34644872f, 0.34826595f,   0.0f,          0.49869999f, 0.0f,
    0.27548152f,  -0.96426904f, 0.37946004f,   -0.86507004f,  0.47136125f, 0.0f,
    0.0f,         0.0f,         -0.092829995f, -0.078970008f, 0.0f,        0.0f};
static const float rnn_bidi_affine_out_Y_h[] = {
    0.47136125f, 0.0f, 0.49869999f, 0.0f, -0.2533344f, -0.45097357f, -0.88857597f, -0.34644872f};
static const float rnn_reverse_leaky_X[] = {
    -0.090000004f, 0.25999999f, 0.1f,         -0.85000002f,  0.19f,       -0.56f,
    -0.61000001f,  0.75999999f, -0.60000002f, -0.090000004f, 0.5f,        0.41f,
    0.11f,         0.61000001f, -0.07f,       0.23999999f,   0.63999999f, 0.36000001f};
static const float rnn_reverse_leaky_W[] = {0.23f,  -0.15000001f, 0.090000004f,
                                            -0.17f, 0.38999999f,  -0.19f};
static const float rnn_reverse_leaky_R[] = {-0.050000001f, 0.41f, 0.0099999998f, -0.25999999f};
static const float rnn_reverse_leaky_B[] = {0.33000001f, -0.12f, 0.34f, 0.28999999f};
static const float rnn_reverse_leaky_initial_h[] = {-0.11f, 0.43000001f, -0.93000001f, -0.22f};
static const float rnn_reverse_leaky_out_Y[] = {0.85003126f, 0.11179946f, 0.44756222f, 0.44626263f,
                                                0.44147101f, 0.61659706f, 0.72720802f, 0.21542101f,
                                                0.77930003f, 0.28959998f, 0.61790001f, 0.35829997f};
static const float rnn_reverse_leaky_out_Y_h[] = {0.85003126f, 0.11179946f, 0.44756222f,
                                                  0.44626263f};

typedef struct ort_case {
    const char *name, *op;
    int opset;
    const char *direction;
    int64_t dirs;
    double clip; /* NAN: attribute absent */
    int input_forget, linear_before_reset;
    const char *acts[6];
    int n_acts;
    float alpha[4];
    int n_alpha;
    float beta[4];
    int n_beta;
    const float *x, *w, *r, *b, *h0, *c0, *p;
    const int32_t *lens;
    const float *y, *y_h, *y_c; /* NULL: output not requested */
} ort_case;

/* All cases: seq 3, batch 2, input 3, hidden 2. */
static const ort_case ort_cases[] = {
    {"lstm_bidi_all",
     "LSTM",
     14,
     "bidirectional",
     2,
     0.9,
     0,
     0,
     {"Sigmoid", "Tanh", "Tanh", "HardSigmoid", "LeakyRelu", "ScaledTanh"},
     6,
     {0.3f, 0.15f, 0.8f},
     3,
     {0.4f, 1.2f},
     2,
     lstm_bidi_all_X,
     lstm_bidi_all_W,
     lstm_bidi_all_R,
     lstm_bidi_all_B,
     lstm_bidi_all_initial_h,
     lstm_bidi_all_initial_c,
     lstm_bidi_all_P,
     lstm_bidi_all_sequence_lens,
     lstm_bidi_all_out_Y,
     lstm_bidi_all_out_Y_h,
     lstm_bidi_all_out_Y_c},
    {"lstm_input_forget",
     "LSTM",
     7,
     "forward",
     1,
     NAN,
     1,
     0,
     {"sigmoid", "ELU", "Softsign"},
     3,
     {0},
     0,
     {0},
     0,
     lstm_input_forget_X,
     lstm_input_forget_W,
     lstm_input_forget_R,
     NULL,
     NULL,
     NULL,
     NULL,
     lstm_input_forget_sequence_lens,
     NULL,
     lstm_input_forget_out_Y_h,
     lstm_input_forget_out_Y_c},
    {"gru_reverse_reset",
     "GRU",
     14,
     "reverse",
     1,
     1.5,
     0,
     0,
     {NULL},
     0,
     {0},
     0,
     {0},
     0,
     gru_reverse_reset_X,
     gru_reverse_reset_W,
     gru_reverse_reset_R,
     gru_reverse_reset_B,
     gru_reverse_reset_initial_h,
     NULL,
     NULL,
     gru_reverse_reset_sequence_lens,
     gru_reverse_reset_out_Y,
     gru_reverse_reset_out_Y_h,
     NULL},
    {"gru_bidi_lbr",
     "GRU",
     14,
     "bidirectional",
     2,
     NAN,
     0,
     1,
     {"HardSigmoid", "Softplus", "Sigmoid", "ThresholdedRelu"},
     4,
     {0.25f, 0.1f},
     2,
     {0.45f},
     1,
     gru_bidi_lbr_X,
     gru_bidi_lbr_W,
     gru_bidi_lbr_R,
     gru_bidi_lbr_B,
     gru_bidi_lbr_initial_h,
     NULL,
     NULL,
     NULL,
     gru_bidi_lbr_out_Y,
     gru_bidi_lbr_out_Y_h,
     NULL},
    {"rnn_bidi_affine",
     "RNN",
     7,
     "bidirectional",
     2,
     2.0,
     0,
     0,
     {"Relu", "Affine"},
     2,
     {0.7f},
     1,
     {-0.2f},
     1,
     rnn_bidi_affine_X,
     rnn_bidi_affine_W,
     rnn_bidi_affine_R,
     rnn_bidi_affine_B,
     NULL,
     NULL,
     NULL,
     rnn_bidi_affine_sequence_lens,
     rnn_bidi_affine_out_Y,
     rnn_bidi_affine_out_Y_h,
     NULL},
    {"rnn_reverse_leaky",
     "RNN",
     14,
     "reverse",
     1,
     NAN,
     0,
     0,
     {"LeakyRelu"},
     1,
     {0},
     0,
     {0},
     0,
     rnn_reverse_leaky_X,
     rnn_reverse_leaky_W,
     rnn_reverse_leaky_R,
     rnn_reverse_leaky_B,
     rnn_reverse_leaky_initial_h,
     NULL,
     NULL,
     NULL,
     rnn_reverse_leaky_out_Y,
     rnn_reverse_leaky_out_Y_h,
     NULL},
};

#endif
