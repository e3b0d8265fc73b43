/* ADD / SUB int8 with broadcasting (TFLite reference_integer_ops::Add / BroadcastAdd4DSlow,
 * reference_ops::Sub): both inputs are shifted left by left_shift, rescaled to a common scale,
 * added or subtracted and rescaled. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#if KT_FAST_KERNELS
#include "kt_dsp.h"

/* Each input's shift and rescale depends on its byte only, so the generator tabulated it
 * (kenning_tasks.codegen.lowering, with TFLite's MBQM): per element two table loads, an add
 * (wrapping, as the reference) and the one-multiply output requantization. */

/* n elements of inputs with strides sa, sb (0 broadcasts). Everything the loop reads is copied
 * into locals first: the int8 stores may alias any object, so GCC would otherwise reload the
 * tables, constants and bounds after every store. */
static void add_run(const kt_add_params *p, const int8_t *a, int32_t sa, const int8_t *b,
                    int32_t sb, int8_t *out, int32_t n)
{
    const int32_t *const t1 = p->in1_table, *const t2 = p->in2_table;
    const kt_rq_channel rq = *p->out_rq;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i = 0;
#if defined(__ARM_FEATURE_DSP)
    if (sa == 1 && sb == 1) {
        /* 4 elements per pass: one word of each input, one word of outputs (kt_requant4_s8's
         * lane-wise clamp; all four lanes share the one output channel's constants). */
        const kt_rq_channel rq4[4] = {rq, rq, rq, rq};
        const uint32_t lo4 = (uint32_t)(uint8_t)lo * 0x01010101u;
        const uint32_t hi4 = (uint32_t)(uint8_t)hi * 0x01010101u;
        for (; i + 4 <= n; i += 4) {
            const uint32_t x = kt_load_u32(a + i), y = kt_load_u32(b + i);
            const int32_t r0 = kt_wrap_add(t1[x & 0xff], t2[y & 0xff]);
            const int32_t r1 = kt_wrap_add(t1[(x >> 8) & 0xff], t2[(y >> 8) & 0xff]);
            const int32_t r2 = kt_wrap_add(t1[(x >> 16) & 0xff], t2[(y >> 16) & 0xff]);
            const int32_t r3 = kt_wrap_add(t1[x >> 24], t2[y >> 24]);
            const uint32_t word = kt_requant4_s8(r0, r1, r2, r3, rq4, lo4, hi4);
            KT_MEMCPY(out + i, &word, 4);
        }
    }
#endif
    for (; i < n; ++i) {
        const int32_t raw = kt_wrap_add(t1[(uint8_t)a[i * sa]], t2[(uint8_t)b[i * sb]]);
        out[i] = (int8_t)kt_clamp_i32(kt_mbqm_channel(raw, &rq), lo, hi);
    }
}

static void add_fast(const kt_add_params *p, const int8_t *input1, const int8_t *input2,
                     int8_t *output)
{
    const int32_t *s1 = p->in1_strides, *s2 = p->in2_strides, *shape = p->out_shape;
    const int32_t n3 = shape[3];
    /* Both inputs the output's shape (no broadcasting): one run over everything. */
    const int32_t total = shape[0] * shape[1] * shape[2] * n3;
    const int32_t dense = s1[3] == 1 && s2[3] == 1 && s1[2] == n3 && s2[2] == n3 &&
                          s1[1] == shape[2] * n3 && s2[1] == shape[2] * n3 &&
                          (shape[0] == 1 || (s1[0] == s1[1] * shape[1] && s2[0] == s2[1] * shape[1]));
    if (dense) {
        add_run(p, input1, 1, input2, 1, output, total);
        return;
    }
    for (int32_t i0 = 0; i0 < shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < shape[2]; ++i2, output += n3) {
                const int8_t *a = input1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int8_t *b = input2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                add_run(p, a, s1[3], b, s2[3], output, n3);
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
