/* Element-wise int8 -> int8 functions as a 256-entry table: TANH, LOGISTIC, RELU, RELU6,
 * LEAKY_RELU, HARD_SWISH. The output of these ops depends on the input byte only, so the
 * generator evaluates TFLite's reference integer arithmetic for all 256 inputs on the host
 * (kenning_tasks.codegen.elementwise, checked against TFLite Micro on every input value) and the
 * kernel is one load per element. */
#include "kt_kernels.h"

void kt_lut_s8(const kt_lut_params *p, const int8_t *input, int8_t *output)
{
    const int8_t *table = p->table; /* indexed by the input byte as unsigned */
    int32_t i = 0;
    for (; i + 4 <= p->count; i += 4) {
        const int8_t a = table[(uint8_t)input[i]], b = table[(uint8_t)input[i + 1]];
        const int8_t c = table[(uint8_t)input[i + 2]], d = table[(uint8_t)input[i + 3]];
        output[i] = a;
        output[i + 1] = b;
        output[i + 2] = c;
        output[i + 3] = d;
    }
    for (; i < p->count; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}
