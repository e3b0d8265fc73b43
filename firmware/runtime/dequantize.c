/* DEQUANTIZE int8 -> float32 (TFLite reference_ops::Dequantize: double product, then float). */
#include "kt_kernels.h"

void kt_dequantize_s8_f32(const kt_dequantize_params *p, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        output[i] = (float)(p->scale * (double)((int32_t)input[i] - p->zero_point));
    }
}
