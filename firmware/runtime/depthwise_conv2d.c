/* DEPTHWISE_CONV_2D, int8 per-channel (TFLite reference_integer_ops::DepthwiseConvPerChannel).
 *
 * Fast paths (KT_FAST_KERNELS, depth multiplier 1, every channel's shift a right shift by
 * 1..23; the generator emits rq_fast only then, otherwise the reference loop runs). Both read
 * the input through a band padded with the input zero point, so no tap needs a bounds check: a
 * padding tap contributes w * zp_in, which the folded bias (bias + input_offset * sum of the
 * channel's taps, input_offset = -zp_in) cancels exactly, as in the reference where it
 * contributes nothing. Requantization is kt_mbqm_channel (see kt_fixedpoint.h). The
 * accumulation order differs from the reference but int32 addition wraps identically in any
 * order, so the sums are the same bits.
 *
 * The generator stores each group of 4 channels' weights tap by tap ([group][tap][4], channels
 * padded to a multiple of 4 with zero weights, so the extra lanes compute garbage that is never
 * stored): int8 for MLA, int16 in SXTB16 lane order, (w0, w2), (w1, w3), on Armv7E-M.
 * Two bands, by layer (Cortex-M0/M3 and the portable host build use the first):
 * - int8 NHWC: the k_h input rows of each output row copied; per tap and 4 channels 4 MLAs, or
 *   on Armv7E-M LDR + 2 SXTB16 + LDRD + 4 SMLABB/SMLATT (layers with stride_h > 1, where few
 *   rows are shared between output rows, so widening them costs more than it saves).
 * - Armv7E-M, stride_h 1: int16 in SXTB16 lane order, each input row widened once into a ring
 *   of span = (k_h - 1) * dil_h + 1 rows; per tap and 4 channels LDRD + LDRD + 4 SMLABB/SMLATT.
 * (A channel-planar int16 band pairing horizontally adjacent taps for SMLAD, 4 pixels of one
 * channel per pass, measured no better: it requantizes and stores each output alone, and pays
 * a per-channel setup on every output row.)
 */
#include "kt_dsp.h"
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

/* Readable reference: a direct translation of TFLite's loop. */
void kt_depthwise_conv2d_s8_ref(const kt_depthwise_conv2d_params *p, const int8_t *input,
                                int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t ic = 0; ic < p->in_c; ++ic) {
                    for (int32_t m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < p->k_h; ++ky) {
                            const int32_t iy = iy0 + p->dil_h * ky;
                            if (iy < 0 || iy >= p->in_h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                                const int32_t ix = ix0 + p->dil_w * kx;
                                if (ix < 0 || ix >= p->in_w) {
                                    continue;
                                }
                                const int32_t x =
                                    input[((b * p->in_h + iy) * p->in_w + ix) * p->in_c + ic];
                                const int32_t w = p->weights[(ky * p->k_w + kx) * p->out_c + oc];
                                acc += w * (x + p->input_offset);
                            }
                        }
                        if (p->bias) {
                            acc += p->bias[oc];
                        }
                        acc = kt_mbqm(acc, p->rq.multiplier[oc], (int)p->rq.shift[oc]);
                        acc += p->output_offset;
                        output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            (int8_t)kt_clamp_i32(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

#if KT_FAST_KERNELS
static KT_ALWAYS_INLINE int8_t requant(int32_t acc, const kt_rq_channel *rq, int32_t lo,
                                      int32_t hi)
{
    return (int8_t)kt_clamp_i32(kt_mbqm_channel(acc, rq), lo, hi);
}

/* ---- The int8 band (Cortex-M0/M3, and strided layers on Armv7E-M) ----------------------- */
static void copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 16; n -= 16, dst += 16, src += 16) { /* 4 word copies per loop test */
        KT_MEMCPY(dst, src, 4);
        KT_MEMCPY(dst + 4, src + 4, 4);
        KT_MEMCPY(dst + 8, src + 8, 4);
        KT_MEMCPY(dst + 12, src + 12, 4);
    }
    for (; n >= 8; n -= 8, dst += 8, src += 8) {
        KT_MEMCPY(dst, src, 8);
    }
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        KT_MEMCPY(dst, src, 4);
    }
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* The k_h input rows output row oy reads, zero-point padded to pw pixels each. */
static void fill_band(const kt_depthwise_conv2d_params *p, const int8_t *image, int32_t oy,
                      int32_t pw, int8_t *band)
{
    const int32_t c = p->in_c;
    const int8_t zp = (int8_t)(-p->input_offset);
    /* band column j is input column j - pad_w; the columns inside the input: */
    const int32_t x0 = kt_min_i32(p->pad_w, pw);
    const int32_t x1 = kt_max_i32(x0, kt_min_i32(pw, p->in_w + p->pad_w));
    for (int32_t ky = 0; ky < p->k_h; ++ky, band += pw * c) {
        const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            kt_fill_s8(band, zp, pw * c);
            continue;
        }
        kt_fill_s8(band, zp, x0 * c);
        copy_s8(band + x0 * c, image + (iy * p->in_w + x0 - p->pad_w) * c, (x1 - x0) * c);
        kt_fill_s8(band + x1 * c, zp, (pw - x1) * c);
    }
}

/* The taps of one channel group: t = tap index, `in` = the tap's 4 channels in the band. On
 * Armv7E-M: 1 LDR + 2 SXTB16 + LDRD + 4 SMLABB/SMLATT, the weights int16 in SXTB16 lane order,
 * (w0, w2), (w1, w3). */
#if KT_DSP_WEIGHTS
/* Tap t's 4 MACs from its widened inputs (c0, c2), (c1, c3) and the group's weights. */
#define KT_DW_MAC4(t, xe, xo)                                                                 \
    do {                                                                                      \
        const uint32_t xe_ = (xe), xo_ = (xo);                                                \
        const uint32_t we_ = w[2 * (t)], wo_ = w[2 * (t) + 1];                                \
        a0 = kt_smlabb(xe_, we_, a0);                                                         \
        a2 = kt_smlatt(xe_, we_, a2);                                                         \
        a1 = kt_smlabb(xo_, wo_, a1);                                                         \
        a3 = kt_smlatt(xo_, wo_, a3);                                                         \
    } while (0)
#define KT_DW_TAP(t, in)                                                                      \
    do {                                                                                      \
        const uint32_t x_ = kt_load_u32(in);                                                  \
        KT_DW_MAC4(t, kt_sxtb16(x_), kt_sxtb16_ror8(x_));                                     \
    } while (0)
#define KT_DW_WORDS_PER_TAP 2
typedef uint32_t kt_dw_weight;
#else
#define KT_DW_TAP(t, in)                                                                      \
    do {                                                                                      \
        const int8_t *x_ = (in);                                                              \
        a0 += w[4 * (t)] * x_[0];                                                             \
        a1 += w[4 * (t) + 1] * x_[1];                                                         \
        a2 += w[4 * (t) + 2] * x_[2];                                                         \
        a3 += w[4 * (t) + 3] * x_[3];                                                         \
    } while (0)
#define KT_DW_WORDS_PER_TAP 4
typedef int8_t kt_dw_weight;
#endif

#if !KT_DSP_WEIGHTS
/* The portable band: a group's 4 accumulators requantized and stored as one word, a last group
 * of < 4 channels byte by byte. Needs full, rq, c, c_all, p. */
static void dw_store_tail(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                          const kt_rq_channel *rq, int32_t n, const kt_depthwise_conv2d_params *p,
                          int8_t *out)
{
    const int32_t acc[4] = {a0, a1, a2, a3};
    for (int32_t i = 0; i < n; ++i) {
        out[i] = requant(acc[i], rq + i, p->act_min, p->act_max);
    }
}

#define KT_DW_STORE_GROUP(out)                                                                \
    do {                                                                                      \
        if (full) {                                                                           \
            const uint32_t word_ =                                                            \
                (uint32_t)(uint8_t)requant(a0, rq, p->act_min, p->act_max) |                  \
                (uint32_t)(uint8_t)requant(a1, rq + 1, p->act_min, p->act_max) << 8 |         \
                (uint32_t)(uint8_t)requant(a2, rq + 2, p->act_min, p->act_max) << 16 |        \
                (uint32_t)(uint8_t)requant(a3, rq + 3, p->act_min, p->act_max) << 24;         \
            KT_MEMCPY(out, &word_, 4);                                                        \
        } else {                                                                              \
            dw_store_tail(a0, a1, a2, a3, rq, c_all - c, p, out);                             \
        }                                                                                     \
    } while (0)
#endif

#if KT_DSP_WEIGHTS
/* Armv7E-M: the constants after a group's 2 * taps weight words in its block
 * (kenning_tasks.codegen.lowering.band_groups, KT_DW_BAND_BLOCK_WORDS), all reached through the
 * group's one pointer. Weights and bias are doubled, so a sum is requantized as kt_mbqm_dsp
 * without its LSL: SMMLAR(2 acc, m, offset) + [acc < 0], shifted right by e (2 acc is exact, as
 * |acc| < 2^30 for rq_fast layers, and has the sign of acc). */
typedef struct {
    int32_t bias[4];   /* 2 * folded bias */
    int32_t rq[4][2];  /* (offset, multiplier) per channel, as in kt_rq_channel */
    int32_t shift[4];  /* e */
    uint32_t lo4, hi4; /* act_min, act_max replicated to 4 bytes */
    /* byte steps of the assembly row loops: to the next pixel of the int8 band (stride_w in_c),
     * to the next output pixel (in_c), to the next pixel of the int16 band (8 stride_w) */
    int32_t px8_step, out_step, px16_step;
} kt_dw_band_consts;

static KT_ALWAYS_INLINE const kt_dw_band_consts *band_consts(const uint32_t *block, int32_t taps)
{
    return (const kt_dw_band_consts *)(const void *)(block + 2 * taps);
}

static KT_ALWAYS_INLINE int32_t band_requant(int32_t acc2, const kt_dw_band_consts *k, int32_t i)
{
    return (kt_smmlar(acc2, k->rq[i][1], k->rq[i][0]) + (acc2 >> 31)) >> k->shift[i];
}

/* A group's 4 doubled sums requantized, clamped and stored (n < 4: the last group's channels). */
static KT_ALWAYS_INLINE void band_store(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                        const kt_dw_band_consts *k, int32_t n, int32_t lo,
                                        int32_t hi, int8_t *out)
{
#if defined(__ARM_FEATURE_DSP)
    if (n == 4) {
        const uint32_t word = kt_pack_clamp4_s8(
            kt_ssat8(band_requant(a0, k, 0)), kt_ssat8(band_requant(a1, k, 1)),
            kt_ssat8(band_requant(a2, k, 2)), kt_ssat8(band_requant(a3, k, 3)), k->lo4, k->hi4);
        KT_MEMCPY(out, &word, 4);
        return;
    }
#endif
    const int32_t acc[4] = {a0, a1, a2, a3};
    for (int32_t i = 0; i < n; ++i) {
        out[i] = (int8_t)kt_clamp_i32(band_requant(acc[i], k, i), lo, hi);
    }
}
#endif

#if defined(__ARM_FEATURE_DSP)
/* One channel's requantization inside the assembly row loops: (offset, multiplier) at byte o
 * of the block, the shift in register s; the saturated byte replaces the sum a. */
#define KT_DW_BAND_RQ(a, o, s)                                                                \
    "ldrd %[we], %[wo], [%[wgt_], #" #o "]\n\t"                                               \
    "smmlar %[we], %[" #a "], %[wo], %[we]\n\t"                                              \
    "add %[we], %[we], %[" #a "], asr #31\n\t"                                               \
    "asr %[we], %[we], %[" #s "]\n\t"                                                        \
    "ssat %[" #a "], #8, %[we]\n\t"
/* After the 4 sums: requantized (KT_DW_BAND_RQ), packed by BFI (each SSAT result is
 * sign-extended, so the three inserts overwrite all upper bits), clamped lane-wise (SSUB8 +
 * SEL) and stored. The byte offsets are KT_DW_BAND_BLOCK_WORDS(9)'s layout: weights 0..71,
 * kt_dw_band_consts from 72. */
#define KT_DW_BAND_STORE                                                                      \
    "ldrd %[xe], %[xo], [%[wgt_], #120]\n\t"                                                  \
    KT_DW_BAND_RQ(a0, 88, xe) KT_DW_BAND_RQ(a1, 96, xo)                                       \
    "ldrd %[xe], %[xo], [%[wgt_], #128]\n\t"                                                  \
    KT_DW_BAND_RQ(a2, 104, xe) KT_DW_BAND_RQ(a3, 112, xo)                                     \
    "bfi %[a0], %[a1], #8, #8\n\t"                                                            \
    "bfi %[a0], %[a2], #16, #8\n\t"                                                           \
    "bfi %[a0], %[a3], #24, #8\n\t"                                                           \
    "ldrd %[we], %[wo], [%[wgt_], #136]\n\t"                                                  \
    "ssub8 %[xe], %[a0], %[we]\n\t"                                                           \
    "sel %[a0], %[a0], %[we]\n\t"                                                             \
    "ssub8 %[xe], %[a0], %[wo]\n\t"                                                           \
    "sel %[a0], %[wo], %[a0]\n\t"                                                             \
    "str %[a0], [%[out_]]\n\t"

/* One int8 band tap: the 4 channels' bytes at addr, SXTB16 in lane order, the tap's weight
 * pair at byte w of the block, 4 halfword MACs. */
#define KT_DW_STEP8(addr, w)                                                                  \
    "ldr %[xo], " addr "\n\t"                                                                 \
    "sxtb16 %[xe], %[xo]\n\t"                                                                 \
    "sxtb16 %[xo], %[xo], ror #8\n\t"                                                         \
    "ldrd %[we], %[wo], [%[wgt_], #" #w "]\n\t"                                               \
    "smlabb %[a0], %[xe], %[we], %[a0]\n\t"                                                   \
    "smlatt %[a2], %[xe], %[we], %[a2]\n\t"                                                   \
    "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                                                   \
    "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#define KT_DW_ROW8(w0, w1, w2)                                                                \
    KT_DW_STEP8("[%[row_]]", w0) KT_DW_STEP8("[%[row_], %[tapx]]", w1)                      \
    KT_DW_STEP8("[%[row_], %[tapx], lsl #1]", w2)

/* One group of a 3x3 layer without dilation along one output row of the int8 band, in one
 * assembly block (13 registers; the end pointer is read from memory): per pixel 9 taps of
 * LDR + 2 SXTB16 + LDRD + 4 SMLAxy onto the doubled biases, then KT_DW_BAND_STORE and the
 * steps to the next pixel from the block. */
static KT_ALWAYS_INLINE void band_line8(const int8_t *row, const int8_t *end, int32_t row_bytes,
                                        int32_t tap_x, const uint32_t *blk, int8_t *out)
{
    int32_t a0, a1, a2, a3;
    uint32_t xe, xo, we, wo;
    __asm__ volatile(
        "1:\n\t"
        "ldrd %[a0], %[a1], [%[wgt_], #72]\n\t"
        "ldrd %[a2], %[a3], [%[wgt_], #80]\n\t"
        KT_DW_ROW8(0, 8, 16)
        "add %[row_], %[row_], %[rb]\n\t"
        KT_DW_ROW8(24, 32, 40)
        "add %[row_], %[row_], %[rb]\n\t"
        KT_DW_ROW8(48, 56, 64)
        "sub %[row_], %[row_], %[rb], lsl #1\n\t"
        KT_DW_BAND_STORE
        "ldrd %[xe], %[xo], [%[wgt_], #144]\n\t"
        "add %[row_], %[row_], %[xe]\n\t"
        "add %[out_], %[out_], %[xo]\n\t"
        "ldr %[xe], %[end_]\n\t"
        "cmp %[row_], %[xe]\n\t"
        "bne 1b\n\t"
        : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xe] "=&r"(xe),
          [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo), [row_] "+r"(row), [out_] "+r"(out)
        : [rb] "r"(row_bytes), [tapx] "r"(tap_x), [wgt_] "r"(blk), [end_] "m"(end)
        : "cc", "memory");
}
#endif

/* One output row from the int8 band (row_bytes between kernel rows). Armv7E-M: group by
 * group; elsewhere pixel by pixel (measured faster on Cortex-M3's narrow rows). The 3x3
 * kernel without dilation (nearly every depthwise layer) has its 9 taps written out: fixed
 * weight offsets, no loop counters. */
#if defined(__GNUC__)
/* Opaque to the optimizer: otherwise GCC keeps each of the 9 tap addresses as its own
 * induction variable, spilled to the stack (twice the instructions). */
#define KT_DW_OPAQUE(x) __asm__("" : "+r"(x))
#else
#define KT_DW_OPAQUE(x) ((void)0)
#endif
#define KT_DW_GROUP_TAPS(px)                                                                  \
    do {                                                                                      \
        const int8_t *r0 = (px);                                                              \
        KT_DW_OPAQUE(r0);                                                                     \
        if (unrolled) {                                                                       \
            const int8_t *r1 = r0 + row_bytes, *r2 = r1 + row_bytes;                          \
            KT_DW_TAP(0, r0);                                                                 \
            KT_DW_TAP(1, r0 + tap_x);                                                         \
            KT_DW_TAP(2, r0 + 2 * tap_x);                                                     \
            KT_DW_TAP(3, r1);                                                                 \
            KT_DW_TAP(4, r1 + tap_x);                                                         \
            KT_DW_TAP(5, r1 + 2 * tap_x);                                                     \
            KT_DW_TAP(6, r2);                                                                 \
            KT_DW_TAP(7, r2 + tap_x);                                                         \
            KT_DW_TAP(8, r2 + 2 * tap_x);                                                     \
        } else {                                                                              \
            int32_t t = 0;                                                                    \
            for (int32_t ky = 0; ky < p->k_h; ++ky, r0 += row_bytes) {                        \
                const int8_t *in = r0;                                                        \
                for (int32_t kx = 0; kx < p->k_w; ++kx, in += tap_x, ++t) {                   \
                    KT_DW_TAP(t, in);                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    } while (0)

static KT_NOINLINE KT_NO_SCHED1 void dw_row_s8(const kt_depthwise_conv2d_params *p,
                                               const int8_t *band, int32_t row_bytes,
                                               int8_t *out_row)
{
    const int32_t c_all = p->in_c;
    const int32_t tap_x = p->dil_w * c_all, px_step = p->stride_w * c_all;
    const int32_t unrolled = p->k_h == 3 && p->k_w == 3 && p->dil_w == 1;
#if KT_DSP_WEIGHTS
    const int32_t taps = p->k_h * p->k_w, lo = p->act_min, hi = p->act_max;
    const kt_dw_weight *w = (const kt_dw_weight *)(const void *)p->weights;
    for (int32_t c = 0; c < c_all; c += 4, w += KT_DW_BAND_BLOCK_WORDS(taps)) {
        const kt_dw_band_consts *k = band_consts(w, taps);
        const int32_t n = kt_min_i32(4, c_all - c);
        int8_t *out = out_row + c;
        const int8_t *px = band + c;
        const int8_t *const end = px + p->out_w * px_step;
#if defined(__ARM_FEATURE_DSP)
        if (unrolled && n == 4) {
            band_line8(px, end, row_bytes, tap_x, w, out);
            continue;
        }
#endif
        for (; px != end; px += px_step, out += c_all) {
            int32_t a0 = k->bias[0], a1 = k->bias[1], a2 = k->bias[2], a3 = k->bias[3];
            KT_DW_GROUP_TAPS(px);
            band_store(a0, a1, a2, a3, k, n, lo, hi, out);
        }
    }
#else
    const int32_t group_w = p->k_h * p->k_w * KT_DW_WORDS_PER_TAP;
    for (int32_t ox = 0; ox < p->out_w; ++ox, band += px_step, out_row += c_all) {
        const kt_dw_weight *w = (const kt_dw_weight *)(const void *)p->weights;
        const int32_t *bias = p->folded_bias;
        const kt_rq_channel *rq = p->rq_fast;
        for (int32_t c = 0; c < c_all; c += 4, bias += 4, rq += 4, w += group_w) {
            const int32_t full = c + 4 <= c_all;
            int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
            KT_DW_GROUP_TAPS(band + c);
            KT_DW_STORE_GROUP(out_row + c);
        }
    }
#endif
}

static void dw_fast_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                       int8_t *output, void *scratch)
{
    const int32_t c = p->in_c;
    const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    int8_t *band = (int8_t *)scratch;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * c;
        for (int32_t oy = 0; oy < p->out_h; ++oy, output += p->out_w * c) {
            fill_band(p, image, oy, pw, band);
            dw_row_s8(p, band, pw * c, output);
        }
    }
}
#if !KT_DSP_WEIGHTS
static void dw_fast(const kt_depthwise_conv2d_params *p, const int8_t *input, int8_t *output,
                    void *scratch)
{
    dw_fast_s8(p, input, output, scratch);
}
#endif
#endif /* KT_FAST_KERNELS */

#if KT_FAST_KERNELS && KT_DSP_WEIGHTS
/* ---- Armv7E-M: a widened band --------------------------------------------------------------
 * Each input row is widened once to int16 in SXTB16 lane order: per pixel and group of 4
 * channels the words (c0, c2), (c1, c3), groups padded to 4 lanes. Rows live in a ring of
 * span = (k_h - 1) * dil_h + 1 slots, each row written to slot s and its mirror s + span, so the
 * span rows an output row reads are always span consecutive slots (constant row stride, as in
 * a plain band). Columns outside the input, and the rows above/below it, hold the input zero
 * point. Per tap and 4 channels: LDRD of the inputs, LDRD of the weights, 4 SMLABB/SMLATT. */

static void fill_u32(uint32_t *dst, uint32_t value, int32_t n)
{
    for (; n >= 4; n -= 4, dst += 4) { /* two STRDs per pass */
        dst[0] = value;
        dst[1] = value;
        dst[2] = value;
        dst[3] = value;
    }
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = value;
    }
}

/* The last group's n pixels when c_all % 4 != 0, widened to d and d + mirror_words. */
static void load_tail(const int8_t *s, uint32_t *d, int32_t mirror_words, int32_t n,
                      int32_t c_all)
{
    const int32_t tail = c_all % 4;
    for (int32_t j = 0; j < n; ++j, s += c_all, d += 2) {
        uint32_t v = 0; /* lanes past the last channel: any value (zero weights) */
        for (int32_t i = 0; i < tail; ++i) {
            v |= (uint32_t)(uint8_t)s[i] << (8 * i);
        }
        d[0] = d[mirror_words] = kt_sxtb16(v);
        d[1] = d[mirror_words + 1] = kt_sxtb16_ror8(v);
    }
}

/* Input row iy (or the zero point, outside the input) into a slot and its mirror. A slot is
 * group-major: group g's pixel j at words 2 * (g * pw + j), so a group's taps along a row are
 * at fixed offsets (8 bytes apart without dilation). */
static void load_row(const kt_depthwise_conv2d_params *p, const int8_t *image, int32_t iy,
                     uint32_t *slot, int32_t mirror_words, int32_t pw, uint32_t zp_word)
{
    const int32_t c_all = p->in_c, groups = (c_all + 3) / 4;
    /* band column j is input column j - pad_w; the columns inside the input: */
    const int32_t x0 = kt_min_i32(p->pad_w, pw);
    const int32_t x1 = kt_max_i32(x0, kt_min_i32(pw, p->in_w + p->pad_w));
    if (iy < 0 || iy >= p->in_h) {
        for (int32_t g = 0; g < groups; ++g) {
            fill_u32(slot + 2 * (g * pw + x0), zp_word, 2 * (x1 - x0));
            fill_u32(slot + mirror_words + 2 * (g * pw + x0), zp_word, 2 * (x1 - x0));
        }
        return;
    }
    const int8_t *src = image + (iy * p->in_w + x0 - p->pad_w) * c_all;
    const int32_t full = c_all / 4, tail = c_all % 4;
    for (int32_t g = 0; g < full; ++g) {
        const int8_t *s = src + 4 * g;
        uint32_t *d = slot + 2 * (g * pw + x0), *m = d + mirror_words;
        for (uint32_t *const end = d + 2 * (x1 - x0); d != end; s += c_all, d += 2, m += 2) {
            const uint32_t v = kt_load_u32(s);
            const uint32_t e = kt_sxtb16(v), o = kt_sxtb16_ror8(v);
            d[0] = e;
            d[1] = o;
            m[0] = e;
            m[1] = o;
        }
    }
    if (tail) {
        load_tail(src + 4 * full, slot + 2 * (full * pw + x0), mirror_words, x1 - x0, c_all);
    }
}

/* n pixels of the zero point (one STRD each). */
static KT_ALWAYS_INLINE uint32_t *fill_pixels(uint32_t *d, int32_t n, uint32_t zp_word)
{
    for (uint32_t *const end = d + 2 * n; d != end; d += 2) {
        d[0] = zp_word;
        d[1] = zp_word;
    }
    return d;
}

/* KT_DW_WHOLE_IMAGE: every row of the taps' extent (input rows -pad_h .. rows - 1 - pad_h) in
 * its own slot, each widened once and without a mirror; the rows and columns outside the input
 * hold the zero point. */
static void load_image16(const kt_depthwise_conv2d_params *p, const int8_t *image,
                         uint32_t *band, int32_t rows, int32_t pw, uint32_t zp_word)
{
    const int32_t c_all = p->in_c, groups = (c_all + 3) / 4, slot_words = 2 * pw * groups;
    const int32_t x0 = kt_min_i32(p->pad_w, pw);
    const int32_t x1 = kt_max_i32(x0, kt_min_i32(pw, p->in_w + p->pad_w));
    const int32_t y0 = kt_min_i32(p->pad_h, rows);
    const int32_t y1 = kt_max_i32(y0, kt_min_i32(rows, p->in_h + p->pad_h));
    const int32_t full = c_all / 4, tail = c_all % 4;
    fill_u32(band, zp_word, y0 * slot_words);
    fill_u32(band + y1 * slot_words, zp_word, (rows - y1) * slot_words);
    for (int32_t y = y0; y < y1; ++y) {
        const int8_t *src = image + ((y - p->pad_h) * p->in_w + x0 - p->pad_w) * c_all;
        uint32_t *slot = band + y * slot_words;
        for (int32_t g = 0; g < full; ++g) {
            const int8_t *s = src + 4 * g;
            uint32_t *d = fill_pixels(slot + 2 * g * pw, x0, zp_word);
            for (uint32_t *const end = d + 2 * (x1 - x0); d != end; s += c_all, d += 2) {
                const uint32_t v = kt_load_u32(s);
                d[0] = kt_sxtb16(v);
                d[1] = kt_sxtb16_ror8(v);
            }
            fill_pixels(d, pw - x1, zp_word);
        }
        if (tail) {
            uint32_t *d = fill_pixels(slot + 2 * full * pw, x0, zp_word);
            load_tail(src + 4 * full, d, 0, x1 - x0, c_all);
            fill_pixels(d + 2 * (x1 - x0), pw - x1, zp_word);
        }
    }
}

#define KT_DW_TAP16(t, in) KT_DW_MAC4(t, (in)[0], (in)[1])

/* The 3 taps of one kernel row (no dilation) for one group: per tap LDRD of the inputs, LDRD of
 * the weights, 4 SMLABB/SMLATT. In assembly on the real instructions (GCC splits the LDRDs
 * and spills otherwise); w0..w2 = the taps' weight byte offsets. */
#if defined(__ARM_FEATURE_DSP)
#define KT_DW_STEP16(x, w)                                                                    \
    "ldrd %[xe], %[xo], [%[row_], #" #x "]\n\t"                                              \
    "ldrd %[we], %[wo], [%[wgt_], #" #w "]\n\t"                                              \
    "smlabb %[a0], %[xe], %[we], %[a0]\n\t"                                                   \
    "smlatt %[a2], %[xe], %[we], %[a2]\n\t"                                                   \
    "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                                                   \
    "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#define KT_DW_TAPS3_16(r, wp, w0, w1, w2)                                                     \
    do {                                                                                      \
        uint32_t xe_, xo_, we_, wo_;                                                          \
        __asm__(KT_DW_STEP16(0, w0) KT_DW_STEP16(8, w1) KT_DW_STEP16(16, w2)                  \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),                 \
                  [xe] "=&r"(xe_), [xo] "=&r"(xo_), [we] "=&r"(we_), [wo] "=&r"(wo_)          \
                : [row_] "r"(r), [wgt_] "r"(wp)                                               \
                : "memory");                                                                  \
    } while (0)
#else
#define KT_DW_TAPS3_16(r, wp, w0, w1, w2)                                                     \
    do {                                                                                      \
        (void)(wp); /* the weights are `w` */                                                \
        KT_DW_TAP16((w0) / 8, (r));                                                           \
        KT_DW_TAP16((w1) / 8, (r) + 2);                                                       \
        KT_DW_TAP16((w2) / 8, (r) + 4);                                                       \
    } while (0)
#endif

#if defined(__ARM_FEATURE_DSP)
/* One group of a 3x3 layer without dilation over output rows of the int16 band (lines of
 * first kernel rows slot_bytes apart, until out reaches out_end), in one assembly block (13
 * registers, nothing spilled; the per-line steps are read from memory): per pixel the 9 taps
 * (KT_DW_STEP16) onto the doubled biases, KT_DW_BAND_STORE (per channel LDRD + SMMLAR + ADD
 * sign + ASR + SSAT, pack, clamp, one STR) and the steps to the next pixel from the block: 95
 * instructions for 36 MACs. */
static KT_ALWAYS_INLINE void band_rows16(const uint32_t *row, const uint32_t *end,
                                         int32_t row_bytes, const uint32_t *blk, int8_t *out,
                                         const int8_t *out_end, int32_t slot_bytes)
{
    int32_t a0, a1, a2, a3;
    uint32_t xe, xo, we, wo;
    /* after a line, its first pixel's next output row is one slot on; the output continues */
    const int32_t jump = slot_bytes - (int32_t)((const uint8_t *)end - (const uint8_t *)row);
    __asm__ volatile(
        "1:\n\t"
        "ldrd %[a0], %[a1], [%[wgt_], #72]\n\t"
        "ldrd %[a2], %[a3], [%[wgt_], #80]\n\t"
        KT_DW_STEP16(0, 0) KT_DW_STEP16(8, 8) KT_DW_STEP16(16, 16)
        "add %[row_], %[row_], %[rb]\n\t"
        KT_DW_STEP16(0, 24) KT_DW_STEP16(8, 32) KT_DW_STEP16(16, 40)
        "add %[row_], %[row_], %[rb]\n\t"
        KT_DW_STEP16(0, 48) KT_DW_STEP16(8, 56) KT_DW_STEP16(16, 64)
        "sub %[row_], %[row_], %[rb], lsl #1\n\t"
        KT_DW_BAND_STORE
        "ldrd %[xe], %[xo], [%[wgt_], #148]\n\t"
        "add %[out_], %[out_], %[xe]\n\t"
        "add %[row_], %[row_], %[xo]\n\t"
        "cmp %[row_], %[end_]\n\t"
        "bne 1b\n\t"
        "ldr %[xe], %[jump_]\n\t"
        "ldr %[xo], %[slot_]\n\t"
        "add %[row_], %[row_], %[xe]\n\t"
        "add %[end_], %[end_], %[xo]\n\t"
        "ldr %[xe], %[oend_]\n\t"
        "cmp %[out_], %[xe]\n\t"
        "bne 1b\n\t"
        : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xe] "=&r"(xe),
          [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo), [row_] "+r"(row), [out_] "+r"(out),
          [end_] "+r"(end)
        : [rb] "r"(row_bytes), [wgt_] "r"(blk), [jump_] "m"(jump), [slot_] "m"(slot_bytes),
          [oend_] "m"(out_end)
        : "cc", "memory");
}
#endif

/* out_rows output rows, group by group: rows = slot of the first one's first kernel row,
 * row_words between kernel rows, slot_words between output rows' first kernel rows (a group's
 * constants and loop setup are then paid once for all the rows of a short image). */
static KT_NOINLINE KT_NO_SCHED1 void dw_rows16(const kt_depthwise_conv2d_params *p,
                                               const uint32_t *rows, int32_t row_words,
                                               int32_t slot_words, int32_t out_rows,
                                               int8_t *out_row)
{
    const int32_t c_all = p->in_c, groups = (c_all + 3) / 4;
    const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    const int32_t tap_x = p->dil_w * 2, px_step = p->stride_w * 2;
    const int32_t taps = p->k_h * p->k_w, lo = p->act_min, hi = p->act_max;
    const int32_t unrolled = p->k_h == 3 && p->k_w == 3 && p->dil_w == 1;
    const int32_t out_line = p->out_w * c_all, band_line = p->out_w * px_step;
    const uint32_t *block = (const uint32_t *)(const void *)p->weights;
    for (int32_t g = 0; g < groups; ++g, block += KT_DW_BAND_BLOCK_WORDS(taps)) {
        const kt_dw_band_consts *k = band_consts(block, taps);
        const uint32_t *w = block;
        const int32_t n = kt_min_i32(4, c_all - 4 * g);
#if defined(__ARM_FEATURE_DSP)
        if (unrolled && n == 4) {
            const uint32_t *r0 = rows + g * pw * 2;
            int8_t *out = out_row + 4 * g;
            band_rows16(r0, r0 + band_line, row_words * 4, block, out, out + out_rows * out_line,
                        slot_words * 4);
            continue;
        }
#endif
        for (int32_t y = 0; y < out_rows; ++y) {
            const uint32_t *r0 = rows + g * pw * 2 + y * slot_words;
            int8_t *out = out_row + 4 * g + y * out_line;
            const uint32_t *const end = r0 + band_line;
            if (unrolled) {
                for (; r0 != end; r0 += px_step, out += c_all) {
                    int32_t a0 = k->bias[0], a1 = k->bias[1], a2 = k->bias[2], a3 = k->bias[3];
                    KT_DW_TAPS3_16(r0, w, 0, 8, 16);
                    KT_DW_TAPS3_16(r0 + row_words, w, 24, 32, 40);
                    KT_DW_TAPS3_16(r0 + 2 * row_words, w, 48, 56, 64);
                    band_store(a0, a1, a2, a3, k, n, lo, hi, out);
                }
                continue;
            }
            for (; r0 != end; r0 += px_step, out += c_all) {
                int32_t a0 = k->bias[0], a1 = k->bias[1], a2 = k->bias[2], a3 = k->bias[3];
                int32_t t = 0;
                const uint32_t *ry = r0;
                for (int32_t ky = 0; ky < p->k_h; ++ky, ry += row_words) {
                    const uint32_t *in = ry;
                    for (int32_t kx = 0; kx < p->k_w; ++kx, in += tap_x, ++t) {
                        KT_DW_TAP16(t, in);
                    }
                }
                band_store(a0, a1, a2, a3, k, n, lo, hi, out);
            }
        }
    }
}

static void dw_fast(const kt_depthwise_conv2d_params *p, const int8_t *input, int8_t *output,
                    void *scratch)
{
    const int32_t c_all = p->in_c, groups = (c_all + 3) / 4;
    const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    const int32_t span = KT_DW_SPAN(p->k_h, p->dil_h);
    const int32_t slot_words = pw * 2 * groups;
    const uint32_t zp16 = (uint16_t)(int16_t)(-p->input_offset);
    const uint32_t zp_word = zp16 | zp16 << 16;
    uint32_t *band = (uint32_t *)scratch;
    if (p->planar) {
        kt_depthwise_planar_s8(p, input, output, scratch);
        return;
    }
    if (p->stride_h > 1) {
        /* Few rows are shared between output rows: widening them costs more than the SXTB16
         * per tap it saves. */
        dw_fast_s8(p, input, output, scratch);
        return;
    }
    if (KT_DW_WHOLE_IMAGE(p->out_h, p->k_h, p->dil_h, p->stride_h)) {
        const int32_t rows = p->out_h + span - 1;
        for (int32_t b = 0; b < p->batches; ++b) {
            load_image16(p, input + b * p->in_h * p->in_w * c_all, band, rows, pw, zp_word);
            dw_rows16(p, band, p->dil_h * slot_words, slot_words, p->out_h, output);
            output += p->out_h * p->out_w * c_all;
        }
        return;
    }
    /* the columns outside the input, once (load_row writes the others of every row it loads) */
    const int32_t x0 = kt_min_i32(p->pad_w, pw);
    const int32_t x1 = kt_max_i32(x0, kt_min_i32(pw, p->in_w + p->pad_w));
    for (int32_t g = 0; g < 2 * span * groups; ++g) {
        fill_u32(band + 2 * g * pw, zp_word, 2 * x0);
        fill_u32(band + 2 * (g * pw + x1), zp_word, 2 * (pw - x1));
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * c_all;
        /* ring slot of input row iy: (iy + pad_h) % span; rows are loaded in increasing order,
         * each once, from `next` on */
        int32_t next = -p->pad_h;
        for (int32_t oy = 0; oy < p->out_h; ++oy, output += p->out_w * c_all) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (int32_t iy = kt_max_i32(next, iy0); iy < iy0 + span; ++iy) {
                load_row(p, image, iy, band + ((iy + p->pad_h) % span) * slot_words,
                         span * slot_words, pw, zp_word);
            }
            next = iy0 + span;
            const uint32_t *rows = band + ((iy0 + p->pad_h) % span) * slot_words;
            dw_rows16(p, rows, p->dil_h * slot_words, slot_words, 1, output);
        }
    }
}
#endif /* KT_FAST_KERNELS && KT_DSP_WEIGHTS */

void kt_depthwise_conv2d_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                            int8_t *output, void *scratch)
{
#if KT_FAST_KERNELS
    if (p->rq_fast != 0) {
        dw_fast(p, input, output, scratch);
        return;
    }
#endif
    (void)scratch;
    kt_depthwise_conv2d_s8_ref(p, input, output);
}
