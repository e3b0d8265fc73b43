/* DEPTHWISE_CONV_2D float32 (TFLite reference_ops::DepthwiseConv): output channel
 * ic * depth_multiplier + m reads input channel ic; taps in (ky, kx) order from 0.0f. */
#include "kt_kernels_f32.h"

void kt_depthwise_conv2d_f32(const kt_depthwise_conv2d_f32_params *p, const float *input,
                             float *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t ic = 0; ic < p->in_c; ++ic) {
                    for (int32_t m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        float total = 0.0f;
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
                                total += input[((b * p->in_h + iy) * p->in_w + ix) * p->in_c + ic]
                                         * p->weights[(ky * p->k_w + kx) * p->out_c + oc];
                            }
                        }
                        const float bias = p->bias ? p->bias[oc] : 0.0f;
                        output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            kt_act_f32(total + bias, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}
