/* MAX_POOL_2D int8 (TFLite reference_integer_ops::MaxPool): padded taps are skipped.
 * Channels are innermost (NHWC), so each output pixel keeps its running maxima in the output
 * row itself and every tap is a contiguous pass over the channels. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

void kt_max_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
{
    const int32_t channels = p->channels;
    const int32_t row_stride = p->in_w * channels;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * row_stride;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = kt_max_i32(0, -iy0);
            const int32_t fy1 = kt_min_i32(p->k_h, p->in_h - iy0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = kt_max_i32(0, -ix0);
                const int32_t fx1 = kt_min_i32(p->k_w, p->in_w - ix0);
                for (int32_t c = 0; c < channels; ++c) {
                    output[c] = -128;
                }
                for (int32_t fy = fy0; fy < fy1; ++fy) {
                    const int8_t *in = image + (iy0 + fy) * row_stride + (ix0 + fx0) * channels;
                    for (int32_t fx = fx0; fx < fx1; ++fx) {
                        for (int32_t c = 0; c < channels; ++c) {
                            if (in[c] > output[c]) {
                                output[c] = in[c];
                            }
                        }
                        in += channels;
                    }
                }
                for (int32_t c = 0; c < channels; ++c) {
                    output[c] = (int8_t)kt_clamp_i32(output[c], p->act_min, p->act_max);
                }
                output += channels;
            }
        }
    }
}
