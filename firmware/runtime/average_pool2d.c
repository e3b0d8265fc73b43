/* AVERAGE_POOL_2D int8 (TFLite reference_integer_ops::AveragePool): the divisor counts only the
 * taps inside the image, and the division rounds half away from zero. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

void kt_average_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
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
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                for (int32_t c = 0; c < p->channels; ++c) {
                    int32_t acc = 0;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            acc += input[((b * p->in_h + iy0 + fy) * p->in_w + ix0 + fx)
                                         * p->channels + c];
                        }
                    }
                    if (count > 0 && p->recip) {
                        /* floor(n / count) = (n * ceil(2^24 / count)) >> 24 exactly for
                         * n <= 128.5 * count and count <= 256 (the error n * r / 2^24 with
                         * r < count stays below 1 / count), and n * recip < 2^31. */
                        const uint32_t n = (uint32_t)(acc < 0 ? -acc : acc) +
                                           (uint32_t)(count / 2);
                        const int32_t q = (int32_t)((n * p->recip[count]) >> 24);
                        acc = acc < 0 ? -q : q;
                    } else if (count > 0) {
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->channels + c] =
                        (int8_t)kt_clamp_i32(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
