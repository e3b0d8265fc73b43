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

void kt_max_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
{
    const int32_t channels = p->channels;
    const int32_t row_stride = p->in_w * channels;
    const uint32_t lowest = lane_splat(-128); /* TFLite starts from the lowest int8 */
    const uint32_t act_min = lane_splat(p->act_min), act_max = lane_splat(p->act_max);
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
                const int8_t *window = image + (iy0 + fy0) * row_stride + (ix0 + fx0) * channels;
                int32_t c = 0;
                if (fy1 - fy0 == 2 && fx1 - fx0 == 2) { /* the common 2x2 window, unrolled */
                    for (; c + 4 <= channels; c += 4) {
                        const int8_t *in = window + c;
                        const uint32_t top = lane_max(lane_load(in), lane_load(in + channels));
                        const uint32_t bottom = lane_max(lane_load(in + row_stride),
                                                         lane_load(in + row_stride + channels));
                        uint32_t m = lane_max(top, bottom);
                        m = lane_min(lane_max(m, act_min), act_max) ^ lanes_in(0);
                        KT_MEMCPY(output + c, &m, sizeof m);
                    }
                }
                for (; c + 4 <= channels; c += 4) {
                    uint32_t m = lowest;
                    const int8_t *row = window + c;
                    for (int32_t fy = fy0; fy < fy1; ++fy, row += row_stride) {
                        const int8_t *in = row;
                        for (int32_t fx = fx0; fx < fx1; ++fx, in += channels) {
                            m = lane_max(m, lane_load(in));
                        }
                    }
                    m = lane_min(lane_max(m, act_min), act_max) ^ lanes_in(0);
                    KT_MEMCPY(output + c, &m, sizeof m);
                }
                for (; c < channels; ++c) {
                    int32_t m = -128;
                    const int8_t *row = window + c;
                    for (int32_t fy = fy0; fy < fy1; ++fy, row += row_stride) {
                        for (int32_t fx = fx0; fx < fx1; ++fx) {
                            m = kt_max_i32(m, row[(fx - fx0) * channels]);
                        }
                    }
                    output[c] = (int8_t)kt_clamp_i32(m, p->act_min, p->act_max);
                }
                output += channels;
            }
        }
    }
}
