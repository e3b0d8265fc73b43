/* CONV_2D float32 (TFLite reference_ops::Conv): per output value, taps in (ky, kx, ic) order
 * summed from 0.0f, taps outside the image skipped, then the bias and the activation.
 *
 * Without horizontal dilation, the taps of a window row that lie inside the image (kx in
 * [kx0, kx1)) are adjacent both in the NHWC input and in the OHWI weights, so they are one
 * dot product of (kx1 - kx0) * in_c values, taken for four output channels at a time
 * (kt_dot4_f32: each output still gets the same products added in the same order as the
 * per-tap reference loop, which dilated rows keep). */
#include "kt_kernels_f32.h"

static void store(const kt_conv2d_f32_params *p, float *out, int32_t oc, float total)
{
    const float bias = p->bias ? p->bias[oc] : 0.0f;
    out[oc] = kt_act_f32(total + bias, p->act_min, p->act_max);
}

/* One output channel, tap by tap (any dilation). */
static float taps_one(const kt_conv2d_f32_params *p, const float *image, int32_t iy0,
                      int32_t ix0, int32_t oc)
{
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
            total = kt_dot_f32(image + (iy * p->in_w + ix) * p->in_c,
                               p->weights + ((oc * p->k_h + ky) * p->k_w + kx) * p->in_c,
                               p->in_c, total);
        }
    }
    return total;
}

void kt_conv2d_f32(const kt_conv2d_f32_params *p, const float *input, float *output)
{
    const int32_t row = p->k_w * p->in_c;   /* weights per window row */
    const int32_t filter = p->k_h * row;    /* weights per output channel */
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *image = input + b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                float *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                int32_t oc = 0;
                if (p->dil_w == 1) {
                    const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
                    const int32_t kx1 = p->in_w - ix0 < p->k_w ? p->in_w - ix0 : p->k_w;
                    const int32_t run = kx1 > kx0 ? (kx1 - kx0) * p->in_c : 0;
                    for (; oc + 4 <= p->out_c; oc += 4) {
                        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                        for (int32_t ky = 0; ky < p->k_h && run; ++ky) {
                            const int32_t iy = iy0 + p->dil_h * ky;
                            if (iy < 0 || iy >= p->in_h) {
                                continue;
                            }
                            kt_dot4_f32(image + (iy * p->in_w + ix0 + kx0) * p->in_c,
                                        p->weights + oc * filter + ky * row + kx0 * p->in_c,
                                        filter, run, t);
                        }
                        for (int32_t j = 0; j < 4; ++j) {
                            store(p, out, oc + j, t[j]);
                        }
                    }
                }
                for (; oc < p->out_c; ++oc) {
                    store(p, out, oc, taps_one(p, image, iy0, ix0, oc));
                }
            }
        }
    }
}
