/* DEPTHWISE_CONV_2D, int8 per-channel (TFLite reference_integer_ops::DepthwiseConvPerChannel). */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

void kt_depthwise_conv2d_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                            int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t ic = 0; ic < p->in_c; ++ic) {
                    for (int32_t m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < p->k_h; ++ky) {
                            const int32_t iy = iy0 + p->dil_h * ky;
                            if (iy < 0 || iy >= p->in_h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                                const int32_t ix = ix0 + p->dil_w * kx;
                                if (ix < 0 || ix >= p->in_w) {
                                    continue;
                                }
                                const int32_t x =
                                    input[((b * p->in_h + iy) * p->in_w + ix) * p->in_c + ic];
                                const int32_t w = p->weights[(ky * p->k_w + kx) * p->out_c + oc];
                                acc += w * (x + p->input_offset);
                            }
                        }
                        if (p->bias) {
                            acc += p->bias[oc];
                        }
                        acc = kt_mbqm(acc, p->rq.multiplier[oc], (int)p->rq.shift[oc]);
                        acc += p->output_offset;
                        output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            (int8_t)kt_clamp_i32(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}
