/* SLICE int8 (up to 4-D): a strided gather, so it is TRANSPOSE's loop (shape_ops.c) started at
 * the slice's first element. TFLite Micro's slice copies the bytes too (no requantization; the
 * converter gives the output the input's quantization). */
#include "kt_kernels.h"

void kt_slice_s8(const kt_slice_params *p, const int8_t *input, int8_t *output)
{
    /* gather.in_strides are the input's own row-major strides: the slice keeps every axis in
     * place and only starts at begin (offset) and stops at begin + size (gather.out_shape). */
    kt_transpose_s8(&p->gather, input + p->offset, output);
}
