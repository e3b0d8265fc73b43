/* MAX_POOL_2D int8 (TFLite reference_integer_ops::MaxPool): padded taps are skipped. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

void kt_max_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fy0 = kt_max_i32(0, -iy0);
                const int32_t fy1 = kt_min_i32(p->k_h, p->in_h - iy0);
                const int32_t fx0 = kt_max_i32(0, -ix0);
                const int32_t fx1 = kt_min_i32(p->k_w, p->in_w - ix0);
                for (int32_t c = 0; c < p->channels; ++c) {
                    int32_t best = -128;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            const int32_t x = input[((b * p->in_h + iy0 + fy) * p->in_w + ix0 + fx)
                                                        * p->channels + c];
                            best = kt_max_i32(best, x);
                        }
                    }
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->channels + c] =
                        (int8_t)kt_clamp_i32(best, p->act_min, p->act_max);
                }
            }
        }
    }
}
