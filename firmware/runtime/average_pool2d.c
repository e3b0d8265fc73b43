/* AVERAGE_POOL_2D int8 (TFLite reference_integer_ops::AveragePool): the divisor counts only the
 * taps inside the image, and the division rounds half away from zero. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

/* TFLite's rounded division of a window sum by the number of taps inside the image. */
static int32_t average(const kt_pool2d_params *p, int32_t acc, int32_t count)
{
    if (count > 0 && p->recip) {
        /* floor(n / count) = (n * ceil(2^24 / count)) >> 24 exactly for n <= 128.5 * count
         * and count <= 256 (the error n * r / 2^24 with r < count stays below 1 / count), and
         * n * recip < 2^31. */
        const uint32_t n = (uint32_t)(acc < 0 ? -acc : acc) + (uint32_t)(count / 2);
        const int32_t q = (int32_t)((n * p->recip[count]) >> 24);
        return acc < 0 ? -q : q;
    }
    if (count > 0) {
        return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    }
    return acc;
}

/* Sums of 4 channels over a window of at most 256 taps, one word per tap (SWAR): each byte
 * biased to unsigned (x ^ 0x80 = x + 128), the even and the odd bytes added in two 16-bit
 * lanes each, which cannot carry into each other (256 * 255 < 2^16); the bias is taken off
 * afterwards. 6 instructions per tap and 4 channels instead of 8 (4 loads, 4 adds), and
 * Armv6-M clean. */
static void window_sums4(const int8_t *window, int32_t rows, int32_t cols, int32_t row_stride,
                         int32_t channels, int32_t sums[4])
{
    uint32_t even = 0, odd = 0;
    for (int32_t fy = 0; fy < rows; ++fy, window += row_stride) {
        const int8_t *in = window;
        for (int32_t fx = 0; fx < cols; ++fx, in += channels) {
            uint32_t x;
            KT_MEMCPY(&x, in, sizeof x);
            x ^= 0x80808080u;
            even += x & 0x00ff00ffu;
            odd += (x >> 8) & 0x00ff00ffu;
        }
    }
    const int32_t bias = 128 * rows * cols;
    sums[0] = (int32_t)(even & 0xffffu) - bias;
    sums[1] = (int32_t)(odd & 0xffffu) - bias;
    sums[2] = (int32_t)(even >> 16) - bias;
    sums[3] = (int32_t)(odd >> 16) - bias;
}

void kt_average_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
{
    const int32_t channels = p->channels;
    const int32_t row_stride = p->in_w * channels;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * row_stride;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox, output += channels) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fy0 = kt_max_i32(0, -iy0);
                const int32_t fy1 = kt_min_i32(p->k_h, p->in_h - iy0);
                const int32_t fx0 = kt_max_i32(0, -ix0);
                const int32_t fx1 = kt_min_i32(p->k_w, p->in_w - ix0);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                const int8_t *window = image + (iy0 + fy0) * row_stride + (ix0 + fx0) * channels;
                int32_t c = 0;
                if (count > 0 && count <= 256) {
                    for (; c + 4 <= channels; c += 4) {
                        int32_t sums[4];
                        window_sums4(window + c, fy1 - fy0, fx1 - fx0, row_stride, channels,
                                     sums);
                        for (int32_t i = 0; i < 4; ++i) {
                            output[c + i] = (int8_t)kt_clamp_i32(average(p, sums[i], count),
                                                                 p->act_min, p->act_max);
                        }
                    }
                }
                for (; c < channels; ++c) { /* the reference loop */
                    int32_t acc = 0;
                    for (int32_t fy = fy0; fy < fy1; ++fy) {
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            acc += window[(fy - fy0) * row_stride + (fx - fx0) * channels + c];
                        }
                    }
                    output[c] = (int8_t)kt_clamp_i32(average(p, acc, count), p->act_min,
                                                     p->act_max);
                }
            }
        }
    }
}
