/* ADD / SUB int8 with broadcasting (TFLite reference_integer_ops::Add / BroadcastAdd4DSlow,
 * reference_ops::Sub): both inputs are shifted left by left_shift, rescaled to a common scale,
 * added or subtracted and rescaled. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#if KT_FAST_KERNELS
/* Each input's shift and rescale depends on its byte only, so the generator tabulated it
 * (kenning_tasks.codegen.lowering, with TFLite's MBQM): per element two table loads, an add
 * (wrapping, as the reference) and the one-multiply output requantization. */
static void add_fast(const kt_add_params *p, const int8_t *input1, const int8_t *input2,
                     int8_t *output)
{
    const int32_t *t1 = p->in1_table, *t2 = p->in2_table;
    const kt_rq_channel *rq = p->out_rq;
    for (int32_t i0 = 0; i0 < p->out_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->out_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < p->out_shape[2]; ++i2) {
                const int8_t *a = input1 + i0 * p->in1_strides[0] + i1 * p->in1_strides[1] +
                                  i2 * p->in1_strides[2];
                const int8_t *b = input2 + i0 * p->in2_strides[0] + i1 * p->in2_strides[1] +
                                  i2 * p->in2_strides[2];
                const int32_t sa = p->in1_strides[3], sb = p->in2_strides[3];
                for (int32_t i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const int32_t raw = kt_wrap_add(t1[(uint8_t)a[i3 * sa]],
                                                    t2[(uint8_t)b[i3 * sb]]);
                    const int32_t out = kt_mbqm_channel(raw, rq);
                    *output++ = (int8_t)kt_clamp_i32(out, p->act_min, p->act_max);
                }
            }
        }
    }
}
#endif

void kt_add_s8(const kt_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
#if KT_FAST_KERNELS
    if (p->out_rq) {
        add_fast(p, input1, input2, output);
        return;
    }
#endif
    for (int32_t i0 = 0; i0 < p->out_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->out_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < p->out_shape[2]; ++i2) {
                for (int32_t i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const int32_t a = input1[i0 * p->in1_strides[0] + i1 * p->in1_strides[1] +
                                             i2 * p->in1_strides[2] + i3 * p->in1_strides[3]];
                    const int32_t b = input2[i0 * p->in2_strides[0] + i1 * p->in2_strides[1] +
                                             i2 * p->in2_strides[2] + i3 * p->in2_strides[3]];
                    const int32_t sa = kt_wrap_shl(a + p->input1_offset, (int)p->left_shift);
                    const int32_t sb = kt_wrap_shl(b + p->input2_offset, (int)p->left_shift);
                    const int32_t ra = kt_mbqm(sa, p->input1_multiplier, (int)p->input1_shift);
                    const int32_t rb = kt_mbqm(sb, p->input2_multiplier, (int)p->input2_shift);
                    const int32_t raw = p->subtract ? kt_wrap_sub(ra, rb) : kt_wrap_add(ra, rb);
                    int32_t out = kt_mbqm(raw, p->output_multiplier,
                                          (int)p->output_shift) + p->output_offset;
                    *output++ = (int8_t)kt_clamp_i32(out, p->act_min, p->act_max);
                }
            }
        }
    }
}
