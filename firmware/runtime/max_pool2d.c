/* MAX_POOL_2D int8 (TFLite reference_integer_ops::MaxPool): padded taps are skipped.
 * Channels are innermost (NHWC), so 4 channels are pooled at a time as the 4 bytes of a word:
 * on Armv7E-M a lane-wise max is SSUB8 + SEL; elsewhere it is a SWAR compare on the bytes
 * biased to unsigned (x ^ 0x80 preserves the order). Remaining channels go one by one. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"
#include "kt_dsp.h"

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

#if defined(__ARM_FEATURE_DSP)
/* SSUB8's GE flags (a >= b) pick b: the lane-wise min in the same two instructions. */
static inline uint32_t lane_min(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
#else
/* Lane-wise min from max: min(a, b) = ~max(~a, ~b) holds in both encodings (~ reverses the
 * order of signed and of unsigned bytes alike). */
static inline uint32_t lane_min(uint32_t a, uint32_t b) { return ~lane_max(~a, ~b); }
#endif

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

#if defined(__GNUC__)
typedef uint32_t kt_word __attribute__((may_alias));
typedef uint64_t kt_word2 __attribute__((may_alias));
#else
typedef uint32_t kt_word;
typedef uint64_t kt_word2;
#endif

/* Lane max of the 4 taps of one output word, clamped to [act_min, act_max] if clamp. */
static KT_ALWAYS_INLINE uint32_t max4(uint32_t tl, uint32_t tr, uint32_t bl, uint32_t br,
                                      int clamp, uint32_t act_min, uint32_t act_max)
{
    uint32_t m = lane_max(lane_max(lanes_in(tl), lanes_in(tr)),
                          lane_max(lanes_in(bl), lanes_in(br)));
    if (clamp) {
        m = lane_min(lane_max(m, act_min), act_max);
    }
    return m ^ lanes_in(0);
}

/* The 2x2 window, no padding, every window inside, channels a multiple of 4 and both tensors
 * word-aligned (arena tensors are): the 4 taps of an output word are aligned words read through
 * kt_word, W words per pixel. in_row / pixel_step / row_step are in words. */
static KT_ALWAYS_INLINE void max2x2_words(const kt_word *top, kt_word *out, int32_t out_h,
                                         int32_t out_w, int32_t W, int32_t in_row,
                                         int32_t pixel_step, int32_t row_step, int clamp,
                                         uint32_t act_min, uint32_t act_max)
{
    for (int32_t oy = 0; oy < out_h; ++oy, top += row_step) {
        const kt_word *t = top;
        for (const kt_word *end = out + out_w * W; out != end; out += W, t += pixel_step) {
            const kt_word *b = t + in_row;
            for (int32_t c = 0; c < W; ++c) {
                out[c] = max4(t[c], t[W + c], b[c], b[W + c], clamp, act_min, act_max);
            }
        }
    }
}

/* Two words at *p, *p stepped past them: one LDRD (post-indexed; word alignment is enough). */
static KT_ALWAYS_INLINE void load2(const kt_word **p, uint32_t *lo, uint32_t *hi)
{
#if defined(__thumb2__) && defined(__GNUC__)
    const kt_word *q = *p;
    __asm__("ldrd %0, %1, [%2], #8" : "=r"(*lo), "=r"(*hi), "+r"(q) : "m"(*(const kt_word2 *)q));
    *p = q;
#else
    *lo = (*p)[0];
    *hi = (*p)[1];
    *p += 2;
#endif
}

/* Two words stored at *p, *p stepped past them: one STRD. */
static KT_ALWAYS_INLINE void store2(kt_word **p, uint32_t lo, uint32_t hi)
{
#if defined(__thumb2__) && defined(__GNUC__)
    kt_word *q = *p;
    __asm__("strd %2, %3, [%0], #8" : "+r"(q), "=m"(*(kt_word2 *)*p) : "r"(lo), "r"(hi));
    *p = q;
#else
    (*p)[0] = lo;
    (*p)[1] = hi;
    *p += 2;
#endif
}

/* Stride 2 across, W = 2 or 4 words (8 or 16 channels), activation range [-128, 127] (clamping
 * changes nothing): a pixel's top taps TL, TR are 2 * W consecutive words and the next pixel's
 * follow, so each tap row is read in order, two words per LDRD, and a pixel costs 4 (W = 2) or
 * 8 LDRDs, 3 lane maxes per output word and W / 2 STRDs. */
static KT_ALWAYS_INLINE void max2x2_s2(const kt_pool2d_params *p, const int8_t *input,
                                      int8_t *output, int32_t W)
{
    const int32_t in_row = p->in_w * W, out_h = p->out_h, out_w = p->out_w;
    const int32_t row_skip = p->stride_h * in_row - out_w * 2 * W;  /* after a row of taps */
    const int32_t image_skip = (p->in_h - out_h * p->stride_h) * in_row; /* after an image */
    const kt_word *t = (const kt_word *)(const void *)input;
    kt_word *out = (kt_word *)(void *)output;
    for (int32_t b = p->batches; b > 0; --b, t += image_skip) {
        for (int32_t oy = out_h; oy > 0; --oy, t += row_skip) {
            const kt_word *u = t + in_row;
            for (const kt_word *end = out + out_w * W; out != end;) {
                uint32_t x0, x1, y0, y1, m0, m1;
                if (W == 2) { /* TL0 TL1 TR0 TR1 */
                    load2(&t, &x0, &x1);
                    load2(&u, &y0, &y1);
                    m0 = lane_max(lanes_in(x0), lanes_in(y0));
                    m1 = lane_max(lanes_in(x1), lanes_in(y1));
                    load2(&t, &x0, &x1);
                    load2(&u, &y0, &y1);
                    m0 = lane_max(m0, lane_max(lanes_in(x0), lanes_in(y0)));
                    m1 = lane_max(m1, lane_max(lanes_in(x1), lanes_in(y1)));
                    store2(&out, m0 ^ lanes_in(0), m1 ^ lanes_in(0));
                } else { /* TL0..3 TR0..3: the left words kept, the right ones maxed in */
                    uint32_t x2, x3, y2, y3;
                    load2(&t, &x0, &x1);
                    load2(&u, &y0, &y1);
                    m0 = lane_max(lanes_in(x0), lanes_in(y0));
                    m1 = lane_max(lanes_in(x1), lanes_in(y1));
                    load2(&t, &x2, &x3);
                    load2(&u, &y2, &y3);
                    uint32_t m2 = lane_max(lanes_in(x2), lanes_in(y2));
                    uint32_t m3 = lane_max(lanes_in(x3), lanes_in(y3));
                    load2(&t, &x0, &x1);
                    load2(&u, &y0, &y1);
                    m0 = lane_max(m0, lane_max(lanes_in(x0), lanes_in(y0)));
                    m1 = lane_max(m1, lane_max(lanes_in(x1), lanes_in(y1)));
                    store2(&out, m0 ^ lanes_in(0), m1 ^ lanes_in(0));
                    load2(&t, &x2, &x3);
                    load2(&u, &y2, &y3);
                    m2 = lane_max(m2, lane_max(lanes_in(x2), lanes_in(y2)));
                    m3 = lane_max(m3, lane_max(lanes_in(x3), lanes_in(y3)));
                    store2(&out, m2 ^ lanes_in(0), m3 ^ lanes_in(0));
                }
            }
        }
    }
}

static KT_NOINLINE void max2x2_s2_w2(const kt_pool2d_params *p, const int8_t *in, int8_t *out)
{
    max2x2_s2(p, in, out, 2);
}

static KT_NOINLINE void max2x2_s2_w4(const kt_pool2d_params *p, const int8_t *in, int8_t *out)
{
    max2x2_s2(p, in, out, 4);
}

/* Any stride, any whole number of words, activation clamp where it matters. */
static KT_NOINLINE void max2x2(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
{
    const int32_t W = p->channels / 4, in_row = p->in_w * W, in_image = p->in_h * in_row;
    const int32_t out_h = p->out_h, out_w = p->out_w, batches = p->batches;
    const int32_t pixel_step = p->stride_w * W, row_step = p->stride_h * in_row;
    const int32_t lo = p->act_min, hi = p->act_max;
    const kt_word *in = (const kt_word *)(const void *)input;
    kt_word *out = (kt_word *)(void *)output;
    for (int32_t b = 0; b < batches; ++b, in += in_image, out += out_h * out_w * W) {
        if (lo > -128 || hi < 127) {
            max2x2_words(in, out, out_h, out_w, W, in_row, pixel_step, row_step, 1,
                         lane_splat(lo), lane_splat(hi));
        } else {
            max2x2_words(in, out, out_h, out_w, W, in_row, pixel_step, row_step, 0, 0, 0);
        }
    }
}

static KT_NOINLINE void max_pool_any(const kt_pool2d_params *p, const int8_t *input,
                                     int8_t *output);

void kt_max_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output)
{
    if (p->k_h == 2 && p->k_w == 2 && (p->pad_h | p->pad_w) == 0 && p->channels % 4 == 0 &&
        (p->out_h - 1) * p->stride_h + 2 <= p->in_h && (p->out_w - 1) * p->stride_w + 2 <= p->in_w &&
        (((uintptr_t)input | (uintptr_t)output) & 3) == 0) {
        if (p->stride_w == 2 && p->act_min <= -128 && p->act_max >= 127) {
            if (p->channels == 8) {
                max2x2_s2_w2(p, input, output);
                return;
            }
            if (p->channels == 16) {
                max2x2_s2_w4(p, input, output);
                return;
            }
        }
        max2x2(p, input, output);
        return;
    }
    max_pool_any(p, input, output);
}

/* Any window, padding and channel count. */
static KT_NOINLINE void max_pool_any(const kt_pool2d_params *p, const int8_t *input,
                                     int8_t *output)
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
