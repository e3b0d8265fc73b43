/* CONV_2D float32 (TFLite reference_ops::Conv): per output value, taps in (ky, kx, ic) order
 * summed from 0.0f, taps outside the image skipped, then the bias and the activation.
 *
 * Without horizontal dilation, the taps of a window row that lie inside the image (kx in
 * [kx0, kx1)) are adjacent both in the NHWC input and in the OHWI weights, so they are one
 * kt_dot_f32 of (kx1 - kx0) * in_c values: the same products summed in the same order as the
 * per-tap loop, with less overhead. */
#include "kt_kernels_f32.h"

void kt_conv2d_f32(const kt_conv2d_f32_params *p, const float *input, float *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                /* The taps of a row inside the image, for dil_w == 1. */
                const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
                const int32_t kx1 = p->in_w - ix0 < p->k_w ? p->in_w - ix0 : p->k_w;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    float total = 0.0f;
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        if (iy < 0 || iy >= p->in_h) {
                            continue;
                        }
                        if (p->dil_w == 1) {
                            if (kx1 > kx0) {
                                total = kt_dot_f32(
                                    input + ((b * p->in_h + iy) * p->in_w + ix0 + kx0) * p->in_c,
                                    p->weights + ((oc * p->k_h + ky) * p->k_w + kx0) * p->in_c,
                                    (kx1 - kx0) * p->in_c, total);
                            }
                            continue;
                        }
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            if (ix < 0 || ix >= p->in_w) {
                                continue;
                            }
                            const float *in = input + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;
                            const float *w = p->weights + ((oc * p->k_h + ky) * p->k_w + kx) * p->in_c;
                            total = kt_dot_f32(in, w, p->in_c, total);
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
