/* MAX_POOL_2D and AVERAGE_POOL_2D float32 (TFLite reference_ops::MaxPool / AveragePool): only
 * the taps inside the image count; the average divides their float sum by their count. */
#include "kt_kernels_f32.h"

/* The window's taps inside the image: [*y0, *y1) x [*x0, *x1) relative to (iy0, ix0). */
static void window(const kt_pool2d_f32_params *p, int32_t iy0, int32_t ix0, int32_t *y0,
                   int32_t *y1, int32_t *x0, int32_t *x1)
{
    *y0 = iy0 < 0 ? -iy0 : 0;
    *y1 = p->in_h - iy0 < p->k_h ? p->in_h - iy0 : p->k_h;
    *x0 = ix0 < 0 ? -ix0 : 0;
    *x1 = p->in_w - ix0 < p->k_w ? p->in_w - ix0 : p->k_w;
}

void kt_max_pool2d_f32(const kt_pool2d_f32_params *p, const float *input, float *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t y0, y1, x0, x1;
                window(p, iy0, ix0, &y0, &y1, &x0, &x1);
                for (int32_t c = 0; c < p->channels; ++c) {
                    float max = -3.40282347e+38f; /* std::numeric_limits<float>::lowest() */
                    for (int32_t fy = y0; fy < y1; ++fy) {
                        for (int32_t fx = x0; fx < x1; ++fx) {
                            const float v = input[((b * p->in_h + iy0 + fy) * p->in_w + ix0 + fx)
                                                  * p->channels + c];
                            max = (max < v) ? v : max; /* std::max(max, v) */
                        }
                    }
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->channels + c] =
                        kt_act_f32(max, p->act_min, p->act_max);
                }
            }
        }
    }
}

void kt_average_pool2d_f32(const kt_pool2d_f32_params *p, const float *input, float *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t y0, y1, x0, x1;
                window(p, iy0, ix0, &y0, &y1, &x0, &x1);
                for (int32_t c = 0; c < p->channels; ++c) {
                    float total = 0.0f;
                    float count = 0.0f;
                    for (int32_t fy = y0; fy < y1; ++fy) {
                        for (int32_t fx = x0; fx < x1; ++fx) {
                            total += input[((b * p->in_h + iy0 + fy) * p->in_w + ix0 + fx)
                                           * p->channels + c];
                            count += 1.0f;
                        }
                    }
                    /* The generator only emits windows that always hold a tap (count > 0). */
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->channels + c] =
                        kt_act_f32(total / count, p->act_min, p->act_max);
                }
            }
        }
    }
}
