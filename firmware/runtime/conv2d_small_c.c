/* CONV_2D fast path for one input channel and a 3x3 kernel (the first layer of image models,
 * e.g. digits' 8x8x1 -> 8 filters), called by kt_conv2d_s8.
 *
 * With one channel the generic path's per-pixel im2col, column widening and call overhead cost
 * more than the 9 MACs. This kernel instead runs output-channel-major: a channel's 9 weights,
 * folded bias and kt_rq_channel constants are held in registers while it sweeps every output
 * pixel, reading the taps straight from the input (VALID) or from the zero-point-padded copy
 * in the scratch (padded_copy; the padding taps then meet input_offset-cancelling folded_bias,
 * exactly as in the im2col path). Outputs are stored with a stride of out_c (NHWC).
 *
 * Arithmetic is the same as the reference: acc = folded_bias + sum w * x (int32, |acc| < 2^30
 * as the generator guarantees for rq_fast), requantized by kt_mbqm_channel, clamped.
 *
 * With KT_DSP_REQUANT (Armv7E-M and its host emulation) the kernel instead runs pixel-major
 * (c1_image below): a pixel's taps are widened into registers once and meet every output
 * channel's constants, streamed by two LDMs per channel: about 14 instructions per 9 MACs.
 *
 * Otherwise (channel-major, below), on DSP targets two horizontally adjacent pixels (stride_w 1)
 * share each kernel row's input word
 * x0..x3: SXTB16 gives E = (x0, x2) and O = (x1, x3), so with W = (w0, w2) pixel a gets
 * SMLAD(W, E) + w1 * lo(O) and pixel b SMLAD(W, O) + w1 * hi(E): per row and pair one LDR,
 * two SXTB16, two SMLAD and two halfword MACs for 6 MACs. The word read ends at the pair's
 * last tap (x3), so it never leaves the image rows. Elsewhere plain C with the same pairing.
 */
#include "kt_dsp.h"
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#if KT_FAST_KERNELS

/* The 9 weights of row oc from the generator's packed layout (pack4_rows, or pack4_rows_s16
 * with rows padded to 12 and each 4-weight chunk in SXTB16 lane order (w0, w2, w1, w3)): in a
 * full group of 4 rows chunk j of row r is at 16 j + 4 r, the len % 4 tails follow the chunks
 * row by row; a last group of fewer than 4 rows is row-major. */
static void channel_weights(const kt_conv2d_params *p, int32_t oc, int32_t *w)
{
    static const uint8_t lane[9] = {0, 2, 1, 3, 4, 6, 5, 7, 8};
    const int32_t s16 = p->weights_s16;
    const int32_t rows = s16 ? 12 : 9, len4 = rows & ~3;
    const int32_t g = oc >> 2, r = oc & 3;
    const int32_t full = g * 4 + 4 <= p->out_c;
    const int32_t base = full ? g * 4 * rows + r * 4 : oc * rows;
    const int32_t chunk = full ? 16 : 4;
    const int32_t tail = full ? g * 4 * rows + 4 * len4 + r * (rows - len4) : oc * rows + len4;
    if (s16 && full) {
        /* the common case, unrolled: chunk j of row r at 16 j + 4 r, no tail (12 = 3 chunks) */
        const uint8_t *q = (const uint8_t *)p->weights + 2 * base;
        int16_t v[9];
        KT_MEMCPY(&v[0], q + 0, 2);
        KT_MEMCPY(&v[2], q + 2, 2);
        KT_MEMCPY(&v[1], q + 4, 2);
        KT_MEMCPY(&v[3], q + 6, 2);
        KT_MEMCPY(&v[4], q + 32, 2);
        KT_MEMCPY(&v[6], q + 34, 2);
        KT_MEMCPY(&v[5], q + 36, 2);
        KT_MEMCPY(&v[7], q + 38, 2);
        KT_MEMCPY(&v[8], q + 64, 2);
        for (int32_t k = 0; k < 9; ++k) {
            w[k] = v[k];
        }
        return;
    }
    for (int32_t k = 0; k < 9; ++k) {
        const int32_t pos = s16 ? lane[k] : k;
        const int32_t at = pos < len4 ? base + (pos >> 2) * chunk + (pos & 3) : tail + pos - len4;
        if (s16) {
            int16_t v;
            KT_MEMCPY(&v, (const uint8_t *)p->weights + 2 * at, sizeof v);
            w[k] = v;
        } else {
            w[k] = p->weights[at];
        }
    }
}

/* kt_mbqm_channel with the channel's constants as scalars (kept in registers by the caller). */
#if KT_DSP_REQUANT
#define KT_RQ_ARGS(c) (c).offset, (c).multiplier, (c).shift
#define KT_RQ_PARAMS int32_t rq0, int32_t rq1, int32_t rq2
#define KT_RQ_APPLY(x) kt_mbqm_dsp((x), rq0, rq1, rq2)
#else
#define KT_RQ_ARGS(c) (c).round_lo, (c).round_hi, (c).multiplier, (c).shift
#define KT_RQ_PARAMS int32_t rq0, int32_t rq1, int32_t rq2, int32_t rq3
#define KT_RQ_APPLY(x) kt_mbqm_fast((x), rq0, rq1, rq2, rq3)
#endif

#if KT_HAVE_DSP
static inline uint32_t pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}
#endif

/* Two requantized outputs, clamped and stored out_c apart. On Armv7E-M branch-free: each is
 * saturated to int8 by SSAT (exact, as [lo, hi] lies inside [-128, 127]), the two are packed
 * into halfwords and clamped lane-wise (SSUB16 sets GE per halfword, SEL picks) against the
 * bounds replicated into both halfwords (lo2, hi2). */
static KT_ALWAYS_INLINE int32_t sat8(int32_t x)
{
#if defined(__ARM_FEATURE_SAT)
    __asm__("ssat %0, #8, %0" : "+r"(x));
    return x;
#else
    return kt_clamp_i32(x, -128, 127);
#endif
}

static KT_ALWAYS_INLINE void store2(int8_t *out, int32_t step, int32_t a, int32_t b,
                                    int32_t lo, int32_t hi, uint32_t lo2, uint32_t hi2,
                                    const int32_t full)
{
    if (full) {
        /* [act_min, act_max] = [-128, 127] (no activation, or ReLU with zero point -128):
         * saturation alone (SSAT on Armv7-M) is the clamp. */
        out[0] = (int8_t)sat8(a);
        out[step] = (int8_t)sat8(b);
        return;
    }
#if defined(__ARM_FEATURE_DSP)
    (void)lo;
    (void)hi;
    uint32_t v, t;
    __asm__("ssat %0, #8, %0" : "+r"(a));
    __asm__("ssat %0, #8, %0" : "+r"(b));
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(v) : "r"(a), "r"(b));
    __asm__("ssub16 %1, %0, %2\n\tsel %0, %0, %2" : "+r"(v), "=&r"(t) : "r"(lo2) : "cc");
    __asm__("ssub16 %1, %0, %2\n\tsel %0, %2, %0" : "+r"(v), "=&r"(t) : "r"(hi2) : "cc");
    out[0] = (int8_t)v;
    out[step] = (int8_t)(v >> 16);
#else
    (void)lo2;
    (void)hi2;
    out[0] = (int8_t)kt_clamp_i32(a, lo, hi);
    out[step] = (int8_t)kt_clamp_i32(b, lo, hi);
#endif
}

/* One pixel from its top-left tap (any stride; byte loads, so nothing past the taps is read). */
static KT_ALWAYS_INLINE int32_t pixel1(const int8_t *s, int32_t row, const int32_t *w,
                                       int32_t acc)
{
    for (int32_t ky = 0; ky < 3; ++ky, s += row, w += 3) {
        acc += w[0] * s[0] + w[1] * s[1] + w[2] * s[2];
    }
    return acc;
}

/* The geometry of one call, as plain values: the kernel's int8 stores may alias anything
 * reachable through p, so everything the loops need is copied out of it first. */
typedef struct {
    int32_t out_h, out_w, stride_w, step_y, row, oc_step, lo, hi;
} c1_geometry;

/* One output channel over all pixels of one image; full: the activation range is [-128, 127]. */
static KT_ALWAYS_INLINE void channel_body(const c1_geometry *gp, const int32_t *w, int32_t bias,
                                          KT_RQ_PARAMS, const int8_t *src, int8_t *out,
                                          const int32_t full)
{
    const c1_geometry g = *gp;
    const int32_t row = g.row, oc_step = g.oc_step, lo = g.lo, hi = g.hi;
    const uint32_t lo2 = ((uint32_t)lo & 0xffffu) * 0x10001u;
    const uint32_t hi2 = ((uint32_t)hi & 0xffffu) * 0x10001u;
#if KT_HAVE_DSP
    const uint32_t w02_0 = pack16(w[0], w[2]), w02_1 = pack16(w[3], w[5]);
    const uint32_t w02_2 = pack16(w[6], w[8]);
    const uint32_t w1_01 = pack16(w[1], w[4]), w1_2 = (uint32_t)w[7];
#else
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const int32_t w6 = w[6], w7 = w[7], w8 = w[8];
#endif
    const int32_t pairs = g.stride_w == 1 ? g.out_w / 2 : 0;
    const int32_t rest = g.out_w - 2 * pairs;
    for (int32_t oy = 0; oy < g.out_h; ++oy, src += g.step_y) {
        const int8_t *s = src;
        for (int32_t n = pairs; n > 0; --n, s += 2, out += 2 * oc_step) {
            {
#if KT_HAVE_DSP
                const uint32_t v0 = kt_load_u32(s), v1 = kt_load_u32(s + row);
                const uint32_t v2 = kt_load_u32(s + 2 * row);
                uint32_t e = kt_sxtb16(v0), o = kt_sxtb16_ror8(v0);
                int32_t a = kt_smlabb(o, w1_01, kt_smlad(w02_0, e, bias));
                int32_t b = kt_smlatb(e, w1_01, kt_smlad(w02_0, o, bias));
                e = kt_sxtb16(v1);
                o = kt_sxtb16_ror8(v1);
                a = kt_smlabt(o, w1_01, kt_smlad(w02_1, e, a));
                b = kt_smlatt(e, w1_01, kt_smlad(w02_1, o, b));
                e = kt_sxtb16(v2);
                o = kt_sxtb16_ror8(v2);
                a = kt_smlabb(o, w1_2, kt_smlad(w02_2, e, a));
                b = kt_smlatb(e, w1_2, kt_smlad(w02_2, o, b));
#else
                /* one MLA per tap, each row's 4 input bytes loaded once for both pixels */
                const int8_t *t = s;
                int32_t x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3];
                int32_t a = bias, b = bias;
                a += w0 * x0, b += w0 * x1;
                a += w1 * x1, b += w1 * x2;
                a += w2 * x2, b += w2 * x3;
                t += row;
                x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3];
                a += w3 * x0, b += w3 * x1;
                a += w4 * x1, b += w4 * x2;
                a += w5 * x2, b += w5 * x3;
                t += row;
                x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3];
                a += w6 * x0, b += w6 * x1;
                a += w7 * x1, b += w7 * x2;
                a += w8 * x2, b += w8 * x3;
#endif
                store2(out, oc_step, KT_RQ_APPLY(a), KT_RQ_APPLY(b), lo, hi, lo2, hi2, full);
            }
        }
        for (int32_t n = rest; n > 0; --n, s += g.stride_w, out += oc_step) {
            out[0] = (int8_t)kt_clamp_i32(KT_RQ_APPLY(pixel1(s, row, w, bias)), lo, hi);
        }
    }
}

#if KT_DSP_REQUANT
#define KT_RQ_PASS rq0, rq1, rq2
#else
#define KT_RQ_PASS rq0, rq1, rq2, rq3
#endif
static KT_NOINLINE KT_NO_SCHED1 void channel_c1(const c1_geometry *g, const int32_t *w,
                                                int32_t bias, KT_RQ_PARAMS, const int8_t *src,
                                                int8_t *out)
{
    if (g->lo == -128 && g->hi == 127) {
        channel_body(g, w, bias, KT_RQ_PASS, src, out, 1);
    } else {
        channel_body(g, w, bias, KT_RQ_PASS, src, out, 0);
    }
}

/* Zero-point-padded copy of one 1-channel image (ph x pw, the taps' extent). */
static void pad_c1(const kt_conv2d_params *p, const int8_t *image, int8_t *padded, int32_t ph,
                   int32_t pw)
{
    const int8_t zp = (int8_t)(-p->input_offset);
    const uint32_t zp4 = (uint32_t)(uint8_t)zp * 0x01010101u;
    int32_t i = 0;
    for (; i + 4 <= ph * pw; i += 4) { /* whole words (unaligned stores are fine on Armv7-M) */
        KT_MEMCPY(padded + i, &zp4, sizeof zp4);
    }
    for (; i < ph * pw; ++i) {
        padded[i] = zp;
    }
    const int32_t y0 = kt_max_i32(0, -p->pad_h), y1 = kt_min_i32(p->in_h, ph - p->pad_h);
    const int32_t x0 = kt_max_i32(0, -p->pad_w), x1 = kt_min_i32(p->in_w, pw - p->pad_w);
    for (int32_t y = y0; y < y1; ++y) {
        int8_t *dst = padded + (y + p->pad_h) * pw + p->pad_w;
        const int8_t *src = image + y * p->in_w;
        int32_t x = x0;
        for (; x + 4 <= x1; x += 4) {
            KT_MEMCPY(dst + x, src + x, 4);
        }
        for (; x < x1; ++x) {
            dst[x] = src[x];
        }
    }
}

#if KT_DSP_REQUANT
/* Armv7E-M (and its host emulation): pixel-major. Each output pixel's 9 taps are widened once
 * into 5 registers, d0..d2 = SXTB16 of kernel row r's word (x_r0, x_r2) and
 * d3 = (x_01, x_11), d4 = (x_21, -), and then reused by every output channel, whose constants
 * the generator stores as one block of KT_CONV_C1_WORDS words per channel (p->c1_blocks,
 * kenning_tasks.codegen.lowering.small_c_blocks), streamed by two LDMs per channel in the asm:
 *   k0 = (2w0, 2w2), k1 = (2w3, 2w5), k2 = (2w6, 2w8), k3 = (2w1, 2w4),
 *   k4 = 2w7 << 16 | last << 8 | shift, k5 = 2 folded_bias, offset, multiplier, act_min, act_max
 * (last marks the final channel; ASR by register reads only k4's low byte).
 * Requantization is kt_mbqm_dsp with the accumulator's doubling folded into the constants:
 * the weights (|2w| <= 256 fits int16) and the bias are doubled once, so the sum is acc2 = 2 acc
 * directly (exact: |acc| < 2^30, and wrapping int32 addition makes a doubled bias that leaves
 * int32 harmless as the total fits), and t = SMMLAR(acc2, m, offset) + (acc2 >> 31) >> shift,
 * the sign of acc2 being that of acc. Outputs of one pixel are adjacent (NHWC), so the store
 * pointer just advances. */
#define C1_WORDS KT_CONV_C1_WORDS

/* One pixel over a block's channels in C (byte loads: safe at the image's last tap). */
static void c1_pixel_c(const int8_t *s, int32_t row, const int32_t *k, int8_t *out)
{
    for (;; k += C1_WORDS) {
        int32_t acc = k[5];
        const uint32_t w01 = (uint32_t)k[3];
        const int32_t wr[3] = {(int16_t)w01, (int16_t)(w01 >> 16), (int16_t)((uint32_t)k[4] >> 16)};
        for (int32_t r = 0; r < 3; ++r) {
            const int8_t *t = s + r * row;
            const uint32_t w02 = (uint32_t)k[r];
            acc = (int32_t)((uint32_t)acc + (uint32_t)((int16_t)w02 * t[0]) +
                            (uint32_t)(wr[r] * t[1]) + (uint32_t)((int16_t)(w02 >> 16) * t[2]));
        }
        const int32_t sh = k[4] & 0xff;
        const int32_t v = (kt_smmlar(acc, k[7], k[6]) + (acc >> 31)) >> sh;
        *out++ = (int8_t)kt_clamp_i32(v, k[8], k[9]);
        if (k[4] & 0x100) {
            return;
        }
    }
}

#if defined(__ARM_FEATURE_DSP)
/* The asm form of c1_pixel_c (one word load per kernel row; the byte after the taps is read). */
#define C1_PIXEL_ASM(CLAMP, PAIR)                                                                    \
    "ldr r5, [r2, r3]\n\t"                                                                       \
    "ldr r6, [r2, r3, lsl #1]\n\t"                                                               \
    "ldr r4, [r2]\n\t"                                                                           \
    "sxtb16 r2, r4, ror #8\n\t"                                                                  \
    "sxtb16 r4, r4\n\t"                                                                          \
    "sxtb16 r3, r5, ror #8\n\t"                                                                  \
    "sxtb16 r5, r5\n\t"                                                                          \
    "sxtb16 r8, r6, ror #8\n\t"                                                                  \
    "sxtb16 r6, r6\n\t"                                                                          \
    "pkhbt r7, r2, r3, lsl #16\n"                                                                \
    "1:\n\t" C1_CHANNEL_ASM(CLAMP) PAIR "tst r11, #256\n\t"                                      \
    "beq 1b\n\t"
/* One channel of the block: its 9 MACs onto the doubled bias, requantized, stored. */
#define C1_CHANNEL_ASM(CLAMP)                                                                    \
    "ldm r1!, {r2, r3, r9, r10, r11, r12}\n\t"                                                   \
    "smlad r12, r4, r2, r12\n\t"                                                                 \
    "smlad r12, r5, r3, r12\n\t"                                                                 \
    "smlad r12, r6, r9, r12\n\t"                                                                 \
    "smlad r12, r7, r10, r12\n\t"                                                                \
    "smlabt r12, r8, r11, r12\n\t"                                                               \
    "ldm r1!, {r2, r3, r9, r10}\n\t"                                                             \
    "smmlar r2, r12, r3, r2\n\t"                                                                 \
    "add r2, r2, r12, asr #31\n\t"                                                               \
    "asr r2, r2, r11\n\t"                                                                        \
    "ssat r2, #8, r2\n\t" CLAMP "strb r2, [r0], #1\n\t"
/* [act_min, act_max] inside [-128, 127]: byte-lane max/min (SSUB8 sets GE, SEL picks) */
#define C1_CLAMP                                                                                 \
    "ssub8 r3, r2, r9\n\t"                                                                       \
    "sel r2, r2, r9\n\t"                                                                         \
    "ssub8 r3, r2, r10\n\t"                                                                      \
    "sel r2, r10, r2\n\t"

/* m >= 1 pixels of one output row; ctx = {blk, s, row, stride_w, skip, s_end}, ctx[1] is
 * advanced (the asm keeps only the block pointer and out in registers across pixels). With
 * `pairs` (an even number of channels in the block, the last flag on the second of a pair) two
 * channels run per loop test. */
static KT_ALWAYS_INLINE int8_t *c1_row(int32_t *ctx, int8_t *out, const int32_t full,
                                       const int32_t pairs)
{
    register int8_t *r0 __asm__("r0") = out;
    register int32_t *r1 __asm__("r1") = ctx;
#define C1_ROW_ASM(CLAMP, PAIR)                                                                  \
    "mov lr, r1\n\t"                                                                             \
    "ldm lr, {r1, r2, r3}\n"                                                                     \
    "2:\n\t" C1_PIXEL_ASM(CLAMP, PAIR) "ldm lr, {r1, r2, r3, r9, r10, r11}\n\t"                  \
    "add r2, r2, r9\n\t"                                                                         \
    "add r0, r0, r10\n\t"                                                                        \
    "str r2, [lr, #4]\n\t"                                                                       \
    "cmp r2, r11\n\t"                                                                            \
    "bne 2b\n\t"
#define C1_ROW_CALL(CLAMP, PAIR)                                                                 \
    __asm__ volatile(C1_ROW_ASM(CLAMP, PAIR)                                                     \
                     : "+r"(r0), "+r"(r1)                                                        \
                     :                                                                           \
                     : "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12",       \
                       "lr", "cc", "memory")
    if (full && pairs) {
        C1_ROW_CALL("", C1_CHANNEL_ASM(""));
    } else if (full) {
        C1_ROW_CALL("", "");
    } else if (pairs) {
        C1_ROW_CALL(C1_CLAMP, C1_CHANNEL_ASM(C1_CLAMP));
    } else {
        C1_ROW_CALL(C1_CLAMP, "");
    }
#undef C1_ROW_CALL
#undef C1_ROW_ASM
    return r0;
}
#endif

/* The pixels of one image for one block of channels; out points at the block's first channel.
 * With unsafe_last, the image's last pixel takes c1_pixel_c (its word read could leave the
 * input). */
static KT_ALWAYS_INLINE void c1_pixels(const kt_conv2d_params *p, const int8_t *src, int32_t row,
                                       const int32_t *blk, int32_t n, int32_t unsafe_last,
                                       int8_t *out, const int32_t full)
{
    const int32_t out_h = p->out_h, out_w = p->out_w, skip = p->out_c - n;
    const int32_t stride_w = p->stride_w, step_y = p->stride_h * row;
    for (int32_t oy = 0; oy < out_h; ++oy, src += step_y) {
        const int8_t *s = src;
        int32_t m = oy == out_h - 1 ? out_w - unsafe_last : out_w;
#if defined(__ARM_FEATURE_DSP)
        if (m > 0) {
            int32_t ctx[6] = {(int32_t)(uintptr_t)blk, (int32_t)(uintptr_t)s, row, stride_w, skip,
                              (int32_t)(uintptr_t)(s + m * stride_w)};
            out = n % 2 ? c1_row(ctx, out, full, 0) : c1_row(ctx, out, full, 1);
            s += m * stride_w;
            m = 0;
        }
#endif
        (void)full;
        for (; m > 0; --m, s += stride_w) { /* the host's emulated build */
            c1_pixel_c(s, row, blk, out);
            out += n + skip;
        }
        if (m == 0 && oy == out_h - 1 && unsafe_last) {
            c1_pixel_c(s, row, blk, out);
        }
    }
}

static KT_NOINLINE void c1_image(const kt_conv2d_params *p, const int8_t *src, int32_t row,
                                 int32_t unsafe_last, int8_t *out)
{
    if (p->act_min == -128 && p->act_max == 127) {
        c1_pixels(p, src, row, p->c1_blocks, p->out_c, unsafe_last, out, 1);
    } else {
        c1_pixels(p, src, row, p->c1_blocks, p->out_c, unsafe_last, out, 0);
    }
}
#endif

int32_t kt_conv2d_s8_small_c(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                             void *scratch)
{
    if (p->in_c != 1 || p->k_h != 3 || p->k_w != 3 || p->dil_h != 1 || p->dil_w != 1 ||
        !p->rq_fast) {
        return 0;
    }
#if KT_DSP_REQUANT
    if (!p->c1_blocks) {
        return 0;
    }
#endif
    const int32_t ph = (p->out_h - 1) * p->stride_h + 3;
    const int32_t pw = (p->out_w - 1) * p->stride_w + 3;
    const int32_t inside = p->pad_h == 0 && p->pad_w == 0 && ph <= p->in_h && pw <= p->in_w;
    if (!inside && !p->padded_copy) {
        return 0;
    }
    int8_t *padded = (int8_t *)scratch + KT_CONV_PADDED_OFFSET(9);
    const int32_t pixels = p->out_h * p->out_w * p->out_c;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w;
        const int8_t *src = image;
        int32_t row = p->in_w;
        if (!inside) {
            pad_c1(p, image, padded, ph, pw);
            src = padded;
            row = pw;
        }
#if KT_DSP_REQUANT
        /* the asm reads one byte past each pixel's taps: inside the padded copy's slack, and
         * inside the image except, perhaps, at the last pixel */
        const int32_t last = (p->out_h - 1) * p->stride_h * row + (p->out_w - 1) * p->stride_w;
        const int32_t unsafe_last = inside && last + 2 * row + 3 >= p->in_h * p->in_w;
        c1_image(p, src, row, unsafe_last, output + b * pixels);
        continue;
#endif
        const c1_geometry g = {p->out_h, p->out_w, p->stride_w, p->stride_h * row, row,
                               p->out_c, p->act_min, p->act_max};
        for (int32_t oc = 0; oc < p->out_c; ++oc) {
            int32_t w[9];
            channel_weights(p, oc, w);
            channel_c1(&g, w, p->folded_bias[oc], KT_RQ_ARGS(p->rq_fast[oc]), src,
                       output + b * pixels + oc);
        }
    }
    return 1;
}

#else
typedef int kt_conv2d_small_c_unused; /* ISO C forbids an empty translation unit */
#endif
