/* MAX_POOL_2D int8 (TFLite reference_integer_ops::MaxPool): padded taps are skipped.
 * Channels are innermost (NHWC), so 4 channels are pooled at a time as the 4 bytes of a word:
 * on Armv7E-M a lane-wise max is SSUB8 + SEL; elsewhere it is a SWAR compare on the bytes
 * biased to unsigned (x ^ 0x80 preserves the order). Remaining channels go one by one. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#define KT_LANE_BIAS 0x80808080u

#if defined(__ARM_FEATURE_DSP)
/* Signed lanes as they are: SSUB8 sets a GE flag per lane where a >= b, SEL picks by them. */
static inline uint32_t lanes_in(uint32_t x) { return x; }
static inline uint32_t lane_max(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
#elif defined(KT_EMULATE_DSP)
/* Host model of SSUB8 + SEL, so the lane bookkeeping of the DSP build is tested. */
static inline uint32_t lanes_in(uint32_t x) { return x; }
static inline uint32_t lane_max(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(a >> i), y = (int8_t)(b >> i);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << i;
    }
    return r;
}
#else
/* Lanes biased to unsigned. a >= b per lane: the top bits decide unless they are equal, then
 * the low 7 bits do; (a | H) - (b & ~H) compares those without borrows between lanes. */
static inline uint32_t lanes_in(uint32_t x) { return x ^ KT_LANE_BIAS; }
static inline uint32_t lane_max(uint32_t a, uint32_t b)
{
    const uint32_t low_ge = (a | KT_LANE_BIAS) - (b & ~KT_LANE_BIAS);
    const uint32_t ge = ((a & ~b) | (~(a ^ b) & low_ge)) & KT_LANE_BIAS;
    const uint32_t mask = (ge << 1) - (ge >> 7); /* 0xff in the lanes where a >= b */
    return (a & mask) | (b & ~mask);
}
#endif

static inline uint32_t lane_load(const int8_t *p)
{
    uint32_t v;
    KT_MEMCPY(&v, p, sizeof v);
    return lanes_in(v);
}

/* Lane-wise min from max: min(a, b) = ~max(~a, ~b) holds in both encodings (~ reverses the
 * order of signed and of unsigned bytes alike). */
static inline uint32_t lane_min(uint32_t a, uint32_t b) { return ~lane_max(~a, ~b); }

static inline uint32_t lane_splat(int32_t v)
{
    return lanes_in((uint32_t)(uint8_t)v * 0x01010101u);
}

/* 4 channels of one output pixel over a window of rows x cols taps. */
static inline uint32_t window_max4(const int8_t *in, int32_t rows, int32_t cols,
                                   int32_t row_stride, int32_t channels)
{
    if (rows == 2 && cols == 2) { /* the common 2x2 window, unrolled */
        const uint32_t top = lane_max(lane_load(in), lane_load(in + channels));
        const uint32_t bottom = lane_max(lane_load(in + row_stride),
                                         lane_load(in + row_stride + channels));
        return lane_max(top, bottom);
    }
    uint32_t m = lane_splat(-128); /* TFLite starts from the lowest int8 */
    for (int32_t fy = 0; fy < rows; ++fy, in += row_stride) {
        const int8_t *tap = in;
        for (int32_t fx = 0; fx < cols; ++fx, tap += channels) {
            m = lane_max(m, lane_load(tap));
        }
    }
    return m;
}

void kt_max_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
{
    /* Everything the loops read is copied into locals first: the int8 stores may alias any
     * object, so GCC would otherwise reload the parameters after every store. */
    const int32_t channels = p->channels, in_h = p->in_h, in_w = p->in_w;
    const int32_t out_h = p->out_h, out_w = p->out_w, k_h = p->k_h, k_w = p->k_w;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t pad_h = p->pad_h, pad_w = p->pad_w, lo = p->act_min, hi = p->act_max;
    const int32_t row_stride = in_w * channels;
    const uint32_t act_min = lane_splat(lo), act_max = lane_splat(hi);
    /* The common 2x2 (or any) window with no padding and every window inside the image, on
     * whole words of channels: no bounds per pixel, pointers stepped. */
    const int32_t inside = pad_h == 0 && pad_w == 0 && (out_h - 1) * stride_h + k_h <= in_h &&
                           (out_w - 1) * stride_w + k_w <= in_w && channels % 4 == 0;
    if (inside) {
        const int32_t pixel_step = stride_w * channels;
        for (int32_t b = 0; b < p->batches; ++b) {
            const int8_t *row = input + b * in_h * row_stride;
            for (int32_t oy = 0; oy < out_h; ++oy, row += stride_h * row_stride) {
                const int8_t *window = row;
                for (int32_t ox = 0; ox < out_w; ++ox, window += pixel_step) {
                    for (int32_t c = 0; c < channels; c += 4, output += 4) {
                        uint32_t m = window_max4(window + c, k_h, k_w, row_stride, channels);
                        m = lane_min(lane_max(m, act_min), act_max) ^ lanes_in(0);
                        KT_MEMCPY(output, &m, sizeof m);
                    }
                }
            }
        }
        return;
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * in_h * row_stride;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * stride_h - pad_h;
            const int32_t fy0 = kt_max_i32(0, -iy0);
            const int32_t rows = kt_min_i32(k_h, in_h - iy0) - fy0;
            const int8_t *row = image + (iy0 + fy0) * row_stride;
            for (int32_t ox = 0; ox < out_w; ++ox, output += channels) {
                const int32_t ix0 = ox * stride_w - pad_w;
                const int32_t fx0 = kt_max_i32(0, -ix0);
                const int32_t cols = kt_min_i32(k_w, in_w - ix0) - fx0;
                const int8_t *window = row + (ix0 + fx0) * channels;
                int32_t c = 0;
                for (; c + 4 <= channels; c += 4) {
                    uint32_t m = window_max4(window + c, rows, cols, row_stride, channels);
                    m = lane_min(lane_max(m, act_min), act_max) ^ lanes_in(0);
                    KT_MEMCPY(output + c, &m, sizeof m);
                }
                for (; c < channels; ++c) {
                    int32_t m = -128;
                    for (int32_t fy = 0; fy < rows; ++fy) {
                        for (int32_t fx = 0; fx < cols; ++fx) {
                            m = kt_max_i32(m, window[fy * row_stride + fx * channels + c]);
                        }
                    }
                    output[c] = (int8_t)kt_clamp_i32(m, lo, hi);
                }
            }
        }
    }
}
