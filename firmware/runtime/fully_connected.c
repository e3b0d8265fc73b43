/* FULLY_CONNECTED, int8 activations, int8 weights (per-tensor or per-channel), int32 bias. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#define KT_FC_BLOCK 16

static int8_t requant_one(const kt_fully_connected_params *p, int32_t acc, int32_t o)
{
    acc = kt_mbqm(acc, p->rq.multiplier[o], (int)p->rq.shift[o]) + p->output_offset;
    return (int8_t)kt_clamp_i32(acc, p->act_min, p->act_max);
}

/* Readable reference: TFLite's reference_integer_ops::FullyConnected(PerChannel). */
void kt_fully_connected_s8_ref(const kt_fully_connected_params *p, const int8_t *input,
                               int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->in_depth;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            const int8_t *w = p->weights + o * p->in_depth;
            int32_t acc = 0;
            for (int32_t k = 0; k < p->in_depth; ++k) {
                acc += (int32_t)w[k] * ((int32_t)x[k] + p->input_offset);
            }
            if (p->bias) {
                acc += p->bias[o];
            }
            output[b * p->out_depth + o] = requant_one(p, acc, o);
        }
    }
}

void kt_fully_connected_s8(const kt_fully_connected_params *p, const int8_t *input,
                           int8_t *output, void *scratch)
{
#if KT_FAST_KERNELS
    uint32_t *col16 = (uint32_t *)scratch;
    int32_t acc[KT_FC_BLOCK];
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->in_depth;
        if (p->out_depth >= 4 || !p->weights_s16) { /* else only leftover rows read x itself */
            kt_widen_col_s8(x, p->in_depth, col16);
        }
        if (p->rq_fast) {
            const kt_dot_job job = {p->weights, p->folded_bias, p->rq_fast, p->out_depth,
                                    p->in_depth, p->act_min, p->act_max, p->weights_s16};
            kt_dot_requant_s8(&job, x, col16, output);
            output += p->out_depth;
            continue;
        }
        for (int32_t o0 = 0; o0 < p->out_depth; o0 += KT_FC_BLOCK) {
            const int32_t n = kt_min_i32(KT_FC_BLOCK, p->out_depth - o0);
            kt_dot_rows_s8(x, col16,
                           p->weights + o0 * p->in_depth * KT_PACKED_WEIGHT_BYTES(p->weights_s16),
                           n, p->in_depth, p->weights_s16, p->folded_bias + o0, acc);
            kt_requant_block_s8(acc, n, p->rq.multiplier + o0, p->rq.shift + o0,
                                p->output_offset, p->act_min, p->act_max, output);
            output += n;
        }
    }
#else
    (void)scratch;
    kt_fully_connected_s8_ref(p, input, output);
#endif
}
