/* DEPTHWISE_CONV_2D on Armv7E-M for 3x3 kernels (depth multiplier 1, no dilation, stride 1 or
 * 2 along the line): channel-planar int16 lines, so SMLAD pairs two taps of one output.
 *
 * The image is swept in "lines": its rows (planar = KT_DW_PLANAR_ROWS) or, for images taller
 * than wide, its columns (KT_DW_PLANAR_COLS, with the kernel transposed by the generator), so a
 * line holds enough outputs to fill the 4-output passes. Each input line is widened once into a
 * ring of 3 slots; a slot holds one plane per channel of `len` (KT_DW_PLANAR_LEN) halfwords:
 * position j is input position j - pad_along, the zero point outside the input (and for lines
 * above/below it). As in depthwise_conv2d.c, a padding tap contributes w * zp_in, which the
 * folded bias (bias - zp_in * sum of the channel's taps) cancels exactly.
 *
 * Per channel the generator stores a block (KT_DW_PLANAR_BLOCK_WORDS): for each kernel row r
 * the words W01 = (w0, w1) and W12 = (w1, w2) (low halfword first), then the folded bias and
 * the channel's kt_rq_channel (offset, multiplier, e), so one pointer reaches all of them.
 * Weights and bias are doubled: the sums come out doubled, which is the SMMLAR operand
 * kt_mbqm_dsp shifts the accumulator into (one LSL per output saved). With the plane words A = (x0, x1), B = (x2, x3),
 * C = (x4, x5), stride 1, the 4 outputs of a pass get their kernel row's 3 taps each as
 *   o0 = SMLAD(A, W01) + SMLABT(B, W12)   x0 w0 + x1 w1 | x2 w2
 *   o1 = SMLATB(A, W01) + SMLAD(B, W12)   x1 w0 | x2 w1 + x3 w2
 *   o2 = SMLAD(B, W01) + SMLABT(C, W12)
 *   o3 = SMLATB(B, W01) + SMLAD(C, W12)
 * and with stride 2 (words A..E over x0..x9) o_k = SMLAD(word k, W01) + SMLABT(word k+1, W12):
 * 8 multiply-accumulates for 12 MACs, plus 3 loads. int32 addition wraps identically in any
 * order, so the sums are the reference's bits. Each output is then requantized with its
 * channel's kt_rq_channel (kt_mbqm_dsp), saturated to int8 by SSAT (exact, as [act_min,
 * act_max] lies inside [-128, 127]) and two outputs are clamped to the activation range at once
 * in the halfwords of one word (SSUB16 + SEL).
 */
#include "kt_dsp.h"
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#if KT_FAST_KERNELS && KT_DSP_WEIGHTS

/* The image seen line by line: rows, or columns when planar == KT_DW_PLANAR_COLS. */
typedef struct {
    int32_t lines_in, along_in, lines_out, along_out;
    int32_t stride_line, stride_along, pad_line, pad_along;
    int32_t in_line, in_along;   /* input bytes to the next line / position */
    int32_t out_line, out_along; /* output bytes */
} dw_view;

static dw_view view_of(const kt_depthwise_conv2d_params *p)
{
    const int32_t c = p->in_c;
    if (p->planar == KT_DW_PLANAR_COLS) {
        const dw_view v = {p->in_w, p->in_h, p->out_w, p->out_h, p->stride_w, p->stride_h,
                           p->pad_w, p->pad_h, c, p->in_w * c, c, p->out_w * c};
        return v;
    }
    const dw_view v = {p->in_h, p->in_w, p->out_h, p->out_w, p->stride_h, p->stride_w,
                       p->pad_h, p->pad_w, p->in_w * c, c, p->out_w * c, c};
    return v;
}

/* n halfwords of value: a short run (a plane's padding) halfword by halfword, inline. */
static KT_ALWAYS_INLINE void fill_s16(int16_t *dst, int16_t value, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = value;
    }
}

static void store_u32(int16_t *dst, uint32_t v) { KT_MEMCPY(dst, &v, sizeof v); }

/* Two pixels' channel bytes (c0, c1, c2, c3) paired per channel: (a.c0, a.c1, b.c0, b.c1) and
 * (a.c2, a.c3, b.c2, b.c3) (PKHBT / PKHTB), so SXTB16 (+ ROR 8) yields each channel's two
 * positions as one plane word. Two plane words are stored at *d, which moves on by 8 bytes. */
#if defined(__ARM_FEATURE_DSP)
static inline uint32_t pack_lo(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline uint32_t pack_hi(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#define KT_PL_STORE2(d, lo, hi) __asm__ volatile("strd %1, %2, [%0], #8" : "+r"(d) : "r"(lo), "r"(hi) : "memory")
#else
static inline uint32_t pack_lo(uint32_t a, uint32_t b) { return (a & 0xffffu) | b << 16; }
static inline uint32_t pack_hi(uint32_t a, uint32_t b) { return a >> 16 | (b & 0xffff0000u); }
#define KT_PL_STORE2(d, lo, hi) (store_u32(d, lo), store_u32((d) + 2, hi), (d) += 4)
#endif

/* One position's 4 channels into their planes (len halfwords apart). */
static void copy_position(const int8_t *s, int16_t *d, int32_t len)
{
    for (int32_t i = 0; i < 4; ++i) {
        d[i * len] = s[i];
    }
}

/* Input line `line` into a slot, positions x0 .. x1 - 1 (the others hold the zero point from the
 * start): 4 channels of 4 positions at a time, per 16
 * values 4 LDR, 4 PKHBT/PKHTB, 8 SXTB16 and 4 STRD. */
static void load_line(const kt_depthwise_conv2d_params *p, const dw_view *v,
                      const int8_t *image, int32_t line, int16_t *slot, int32_t len)
{
    const int32_t c_all = p->in_c;
    const int32_t x0 = kt_min_i32(v->pad_along, len);
    const int32_t x1 = kt_max_i32(x0, kt_min_i32(len, v->along_in + v->pad_along));
    const int8_t *src = image + line * v->in_line + (x0 - v->pad_along) * v->in_along;
    const int32_t step = v->in_along, full = c_all & ~3;
    for (int32_t g = 0; g < full; g += 4) {
        const int8_t *s = src + g;
        int16_t *d = slot + g * len;
        int32_t j = x0;
        if ((j & 1) && j < x1) { /* an odd first position: word pairs start at even ones */
            copy_position(s, d + j, len);
            ++j, s += step;
        }
        int16_t *d0 = d + j, *d1 = d0 + len, *d2 = d1 + len, *d3 = d2 + len;
        for (; j + 4 <= x1; j += 4, s += 4 * step) {
            const uint32_t va = kt_load_u32(s), vb = kt_load_u32(s + step);
            const uint32_t vc = kt_load_u32(s + 2 * step), vd = kt_load_u32(s + 3 * step);
            const uint32_t ab02 = pack_lo(va, vb), ab13 = pack_hi(va, vb);
            const uint32_t cd02 = pack_lo(vc, vd), cd13 = pack_hi(vc, vd);
            KT_PL_STORE2(d0, kt_sxtb16(ab02), kt_sxtb16(cd02));
            KT_PL_STORE2(d1, kt_sxtb16_ror8(ab02), kt_sxtb16_ror8(cd02));
            KT_PL_STORE2(d2, kt_sxtb16(ab13), kt_sxtb16(cd13));
            KT_PL_STORE2(d3, kt_sxtb16_ror8(ab13), kt_sxtb16_ror8(cd13));
        }
        for (; j + 2 <= x1; j += 2, s += 2 * step) {
            const uint32_t va = kt_load_u32(s), vb = kt_load_u32(s + step);
            const uint32_t ab02 = pack_lo(va, vb), ab13 = pack_hi(va, vb);
            store_u32(d + j, kt_sxtb16(ab02));
            store_u32(d + len + j, kt_sxtb16_ror8(ab02));
            store_u32(d + 2 * len + j, kt_sxtb16(ab13));
            store_u32(d + 3 * len + j, kt_sxtb16_ror8(ab13));
        }
        if (j < x1) {
            copy_position(s, d + j, len);
        }
    }
    for (int32_t c = full; c < c_all; ++c) {
        const int8_t *s = src + c;
        for (int32_t j = x0; j < x1; ++j, s += step) {
            slot[c * len + j] = *s;
        }
    }
}

/* One kernel row of a pass in C (the host's emulation; on Arm only a line shorter than a pass,
 * which the generator does not choose): row = the row's plane at the pass's first position
 * (advanced to the next pass), w = the channel's block, k = the row's first word's byte offset
 * (W01; W12 follows). */
static inline uint32_t plane_word(const int16_t *r, int32_t i)
{
    uint32_t v;
    KT_MEMCPY(&v, r + 2 * i, sizeof v);
    return v;
}
#define KT_PL_ROW_S1(row, k)                                                                    \
    do {                                                                                      \
        const uint32_t xa_ = plane_word(row, 0), xb_ = plane_word(row, 1);                        \
        const uint32_t xc_ = plane_word(row, 2);                                                \
        const uint32_t wa_ = w[(k) / 4], wb_ = w[(k) / 4 + 1];                                \
        a0 = kt_smlabt(xb_, wb_, kt_smlad(xa_, wa_, a0));                                     \
        a1 = kt_smlad(xb_, wb_, kt_smlatb(xa_, wa_, a1));                                     \
        a2 = kt_smlabt(xc_, wb_, kt_smlad(xb_, wa_, a2));                                     \
        a3 = kt_smlad(xc_, wb_, kt_smlatb(xb_, wa_, a3));                                     \
        row += 4;                                                                               \
    } while (0)
#define KT_PL_ROW_S2(row, k)                                                                    \
    do {                                                                                      \
        const uint32_t wa_ = w[(k) / 4], wb_ = w[(k) / 4 + 1];                                \
        a0 = kt_smlabt(plane_word(row, 1), wb_, kt_smlad(plane_word(row, 0), wa_, a0));           \
        a1 = kt_smlabt(plane_word(row, 2), wb_, kt_smlad(plane_word(row, 1), wa_, a1));           \
        a2 = kt_smlabt(plane_word(row, 3), wb_, kt_smlad(plane_word(row, 2), wa_, a2));           \
        a3 = kt_smlabt(plane_word(row, 4), wb_, kt_smlad(plane_word(row, 3), wa_, a3));           \
        row += 8;                                                                               \
    } while (0)

/* kt_mbqm_dsp of a doubled accumulator d = 2 * acc (the weights and bias are stored doubled, so
 * the sums come out doubled and the LSL is saved; exact while |acc| < 2^30, the fast path's
 * bound, and d's sign bit is acc's). */
static KT_ALWAYS_INLINE int32_t mbqm_doubled(int32_t d, int32_t offset, int32_t m,
                                             int32_t shift)
{
    return (kt_smmlar(d, m, offset) + (d >> 31)) >> shift;
}

/* Two requantized outputs in one word's halfwords, clamped to the activation range. */
static KT_ALWAYS_INLINE uint32_t requant2(int32_t a, int32_t b, int32_t offset, int32_t m,
                                          int32_t shift, uint32_t lo2, uint32_t hi2)
{
    const int32_t qa = kt_ssat8(mbqm_doubled(a, offset, m, shift));
    const int32_t qb = kt_ssat8(mbqm_doubled(b, offset, m, shift));
    return kt_clamp16x2(((uint32_t)qa & 0xffffu) | (uint32_t)qb << 16, lo2, hi2);
}

/* One pass in C (the host's emulation, and the last, partial pass on Arm): `left` outputs
 * (1..4) from `out`, `step` bytes apart. */
#define KT_PL_PASS_C(ROW)                                                                     \
    do {                                                                                      \
        const int32_t bias = (int32_t)w[6], offset = (int32_t)w[7], m = (int32_t)w[8];        \
        const int32_t shift = (int32_t)w[9];                                                  \
        int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;                                   \
        ROW(r0, 0);                                                                           \
        ROW(r1, 8);                                                                           \
        ROW(r2, 16);                                                                          \
        const uint32_t q01 = requant2(a0, a1, offset, m, shift, lo2, hi2);                    \
        const uint32_t q23 = requant2(a2, a3, offset, m, shift, lo2, hi2);                    \
        const int8_t q[4] = {(int8_t)q01, (int8_t)(q01 >> 16), (int8_t)q23,                   \
                             (int8_t)(q23 >> 16)};                                            \
        for (int32_t i = 0; i < kt_min_i32(left, 4); ++i, out += step) {                      \
            *out = q[i];                                                                      \
        }                                                                                     \
    } while (0)

#if defined(__ARM_FEATURE_DSP)
/* The full passes of one channel along a line, in assembly: 13 registers stay live through the
 * multiply-accumulates (4 sums, 3 row pointers, the weights' pointer, 2 input and 2 weight
 * words, the pass count), so the requantization constants, bounds and output pointer are read
 * from the stack ("m" operands) as they are needed. Per pass at stride 1: 4 + 33 + 23 + 10 + 2
 * instructions for 36 MACs (+ 5 with an upper activation bound below 127). */
#define KT_PL_ASM_ROW_S1(R, K)                                                                \
    "ldrd %[wa], %[wb], [%[w], #" #K "]\n\t"                                                 \
    "ldrd %[xa], %[xb], [%[" #R "]], #8\n\t"                                                 \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t"                                                    \
    "smlabt %[a0], %[xb], %[wb], %[a0]\n\t"                                                   \
    "smlatb %[a1], %[xa], %[wa], %[a1]\n\t"                                                   \
    "smlad %[a1], %[xb], %[wb], %[a1]\n\t"                                                    \
    "ldr %[xa], [%[" #R "]]\n\t"                                                             \
    "smlad %[a2], %[xb], %[wa], %[a2]\n\t"                                                    \
    "smlabt %[a2], %[xa], %[wb], %[a2]\n\t"                                                   \
    "smlatb %[a3], %[xb], %[wa], %[a3]\n\t"                                                   \
    "smlad %[a3], %[xa], %[wb], %[a3]\n\t"
/* The same from a position that is not word aligned (single LDRs, which may be unaligned on
 * Armv7-M; the pointer is not advanced: only a line's last pass uses it). */
#define KT_PL_ASM_ROW_S1_UNALIGNED(R, K)                                                      \
    "ldrd %[wa], %[wb], [%[w], #" #K "]\n\t"                                                 \
    "ldr %[xa], [%[" #R "]]\n\t"                                                             \
    "ldr %[xb], [%[" #R "], #4]\n\t"                                                         \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t"                                                    \
    "smlabt %[a0], %[xb], %[wb], %[a0]\n\t"                                                   \
    "smlatb %[a1], %[xa], %[wa], %[a1]\n\t"                                                   \
    "smlad %[a1], %[xb], %[wb], %[a1]\n\t"                                                    \
    "ldr %[xa], [%[" #R "], #8]\n\t"                                                         \
    "smlad %[a2], %[xb], %[wa], %[a2]\n\t"                                                    \
    "smlabt %[a2], %[xa], %[wb], %[a2]\n\t"                                                   \
    "smlatb %[a3], %[xb], %[wa], %[a3]\n\t"                                                   \
    "smlad %[a3], %[xa], %[wb], %[a3]\n\t"
/* Stride 2: words A..E of x0..x9 through the two input registers. */
#define KT_PL_ASM_ROW_S2(R, K)                                                                \
    "ldrd %[wa], %[wb], [%[w], #" #K "]\n\t"                                                 \
    "ldrd %[xa], %[xb], [%[" #R "]], #16\n\t"                                                \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t"                                                    \
    "smlabt %[a0], %[xb], %[wb], %[a0]\n\t"                                                   \
    "ldr %[xa], [%[" #R "], #-8]\n\t"                                                        \
    "smlad %[a1], %[xb], %[wa], %[a1]\n\t"                                                    \
    "smlabt %[a1], %[xa], %[wb], %[a1]\n\t"                                                   \
    "ldr %[xb], [%[" #R "], #-4]\n\t"                                                        \
    "smlad %[a2], %[xa], %[wa], %[a2]\n\t"                                                    \
    "smlabt %[a2], %[xb], %[wb], %[a2]\n\t"                                                   \
    "ldr %[xa], [%[" #R "]]\n\t"                                                             \
    "smlad %[a3], %[xb], %[wa], %[a3]\n\t"                                                    \
    "smlabt %[a3], %[xa], %[wb], %[a3]\n\t"
#define KT_PL_ASM_REQUANT(A)                                                                  \
    "smmlar %[xa], %[" #A "], %[wb], %[wa]\n\t"                                              \
    "add %[" #A "], %[xa], %[" #A "], asr #31\n\t"                                          \
    "asr %[" #A "], %[" #A "], %[xb]\n\t"                                                    \
    "ssat %[" #A "], #8, %[" #A "]\n\t"
#define KT_PL_ASM_CLAMP(BOUND, SEL_A0, SEL_A2)                                                \
    "ldr %[wa], %[" #BOUND "]\n\t"                                                            \
    "ssub16 %[xa], %[a0], %[wa]\n\t"                                                          \
    "sel %[a0], " SEL_A0 "\n\t"                                                              \
    "ssub16 %[xa], %[a2], %[wa]\n\t"                                                          \
    "sel %[a2], " SEL_A2 "\n\t"
#define KT_PL_ASM_LOOP(ROW, UPPER)                                                            \
    __asm__ volatile(                                                                         \
        "1:\n\t"                                                                              \
        "ldr %[a0], [%[w], #24]\n\t"                                                          \
        "mov %[a1], %[a0]\n\t"                                                                \
        "mov %[a2], %[a0]\n\t"                                                                \
        "mov %[a3], %[a0]\n\t"                                                                \
        ROW(r0, 0) ROW(r1, 8) ROW(r2, 16)                                                     \
        "ldrd %[wa], %[wb], [%[w], #28]\n\t"                                                  \
        "ldr %[xb], [%[w], #36]\n\t"                                                          \
        KT_PL_ASM_REQUANT(a0) KT_PL_ASM_REQUANT(a1) KT_PL_ASM_REQUANT(a2)                     \
        KT_PL_ASM_REQUANT(a3)                                                                 \
        "pkhbt %[a0], %[a0], %[a1], lsl #16\n\t"                                              \
        "pkhbt %[a2], %[a2], %[a3], lsl #16\n\t"                                              \
        KT_PL_ASM_CLAMP(lo2, "%[a0], %[wa]", "%[a2], %[wa]")                                  \
        UPPER                                                                                 \
        "ldr %[wb], %[out]\n\t"                                                               \
        "ldr %[xb], %[step]\n\t"                                                              \
        "strb %[a0], [%[wb]]\n\t"                                                             \
        "lsr %[a0], %[a0], #16\n\t"                                                           \
        "strb %[a0], [%[wb], %[xb]]\n\t"                                                      \
        "add %[wb], %[wb], %[xb], lsl #1\n\t"                                                 \
        "strb %[a2], [%[wb]]\n\t"                                                             \
        "lsr %[a2], %[a2], #16\n\t"                                                           \
        "strb %[a2], [%[wb], %[xb]]\n\t"                                                      \
        "add %[wb], %[wb], %[xb], lsl #1\n\t"                                                 \
        "str %[wb], %[out]\n\t"                                                               \
        "subs %[n], %[n], #1\n\t"                                                             \
        "bne 1b"                                                                              \
        : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xa] "=&r"(xa),    \
          [xb] "=&r"(xb), [wa] "=&r"(wa), [wb] "=&r"(wb), [r0] "+r"(r0), [r1] "+r"(r1),       \
          [r2] "+r"(r2), [n] "+r"(passes), [out] "+m"(out)                                    \
        : [w] "r"(w), [lo2] "m"(lo2), [hi2] "m"(hi2), [step] "m"(step)                        \
        : "cc", "memory")
#define KT_PL_ASM_UPPER KT_PL_ASM_CLAMP(hi2, "%[wa], %[a0]", "%[wa], %[a2]")
/* `count` passes from the row pointers and `out` on (advancing them). */
#define KT_PL_ASM_PASSES(ROW, count)                                                          \
    do {                                                                                      \
        int32_t passes = (count);                                                             \
        int32_t a0, a1, a2, a3;                                                               \
        uint32_t xa, xb, wa, wb;                                                              \
        if (upper) {                                                                          \
            KT_PL_ASM_LOOP(ROW, KT_PL_ASM_UPPER);                                             \
        } else {                                                                              \
            KT_PL_ASM_LOOP(ROW, "");                                                          \
        }                                                                                     \
        (void)a0, (void)a1, (void)a2, (void)a3, (void)xa, (void)xb, (void)wa, (void)wb;       \
    } while (0)
/* The full passes, then a last partial one moved back to end at the line's end (it recomputes
 * and rewrites some outputs with the same values); at stride 1 and an odd line length its first
 * position is not word aligned, so it reads by single LDRs. */
#define KT_PL_FULL_PASSES(ROW, ROW_UNALIGNED, S)                                              \
    do {                                                                                      \
        if (left >= 4) {                                                                      \
            KT_PL_ASM_PASSES(ROW, left / 4);                                                  \
            left %= 4;                                                                        \
            if (left) {                                                                       \
                const int32_t back = 4 - left;                                                \
                r0 -= back * (S), r1 -= back * (S), r2 -= back * (S);                         \
                out -= back * step;                                                           \
                if ((S) == 2 || !(left & 1)) {                                                \
                    KT_PL_ASM_PASSES(ROW, 1);                                                 \
                } else {                                                                      \
                    KT_PL_ASM_PASSES(ROW_UNALIGNED, 1);                                       \
                }                                                                             \
                left = 0;                                                                     \
            }                                                                                 \
        }                                                                                     \
    } while (0)
#else
#define KT_PL_FULL_PASSES(ROW, ROW_UNALIGNED, S) ((void)upper)
#endif

/* One output line, channel by channel; rows[k] = the slot of its k-th input line. */
static KT_NOINLINE KT_NO_SCHED1 void planar_line(const kt_depthwise_conv2d_params *p,
                                                 const dw_view *v, int16_t *const rows[3],
                                                 int32_t len, int8_t *out_line)
{
    /* everything the channel loop reads, in locals (the assembly's memory clobber would make
     * it reload them through the pointers on every channel) */
    const int32_t step = v->out_along, n = v->along_out, channels = p->in_c;
    const int32_t stride1 = v->stride_along == 1;
    const uint32_t lo2 = (uint16_t)(int16_t)p->act_min * 0x10001u;
    const uint32_t hi2 = (uint16_t)(int16_t)p->act_max * 0x10001u;
    const int32_t upper = p->act_max < 127;
    const uint32_t *w = (const uint32_t *)(const void *)p->weights;
    const int16_t *row0 = rows[0], *row1 = rows[1], *row2 = rows[2];
    for (int32_t c = 0; c < channels; ++c, w += KT_DW_PLANAR_BLOCK_WORDS) {
        const int16_t *r0 = row0, *r1 = row1, *r2 = row2;
        row0 += len, row1 += len, row2 += len;
        int8_t *out = out_line + c;
        int32_t left = n;
        if (stride1) {
            KT_PL_FULL_PASSES(KT_PL_ASM_ROW_S1, KT_PL_ASM_ROW_S1_UNALIGNED, 1);
            for (; left > 0; left -= 4) {
                KT_PL_PASS_C(KT_PL_ROW_S1);
            }
        } else {
            KT_PL_FULL_PASSES(KT_PL_ASM_ROW_S2, KT_PL_ASM_ROW_S2, 2);
            for (; left > 0; left -= 4) {
                KT_PL_PASS_C(KT_PL_ROW_S2);
            }
        }
    }
}

void kt_depthwise_planar_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                            int8_t *output, void *scratch)
{
    const dw_view v = view_of(p);
    const int32_t len = KT_DW_PLANAR_LEN(v.along_out, v.stride_along);
    const int32_t slot_len = p->in_c * len;
    int16_t *ring = (int16_t *)scratch;
    /* the lines above and below the input read a fourth slot of zero points, filled once */
    int16_t *const zp_slot = ring + 3 * slot_len;
    const int16_t zp = (int16_t)(-p->input_offset);
    if (v.pad_line > 0 || (v.lines_out - 1) * v.stride_line + 3 > v.lines_in + v.pad_line) {
        /* two words per STRD (slot_len is even, as len is; the slot is word aligned) */
        const uint32_t pair = (uint16_t)zp * 0x10001u;
        int16_t *d = zp_slot;
        int32_t i = 0;
        for (; i + 4 <= slot_len; i += 4) {
            KT_PL_STORE2(d, pair, pair);
        }
        if (i < slot_len) {
            store_u32(d, pair);
        }
    }
    /* positions outside the input hold the zero point in every ring slot, once */
    const int32_t x0 = kt_min_i32(v.pad_along, len);
    const int32_t x1 = kt_max_i32(x0, kt_min_i32(len, v.along_in + v.pad_along));
    for (int32_t plane = 0; plane < 3 * p->in_c; ++plane) {
        fill_s16(ring + plane * len, zp, x0);
        fill_s16(ring + plane * len + x1, zp, len - x1);
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->in_c;
        int8_t *out_image = output + b * p->out_h * p->out_w * p->out_c;
        /* input line i lives in slot (i + pad_line) % 3; lines load in increasing order, each
         * once, from `next` on */
        int32_t next = -v.pad_line;
        for (int32_t l = 0; l < v.lines_out; ++l) {
            const int32_t first = l * v.stride_line - v.pad_line;
            const int32_t last = kt_min_i32(first + 3, v.lines_in);
            for (int32_t i = kt_max_i32(kt_max_i32(next, first), 0); i < last; ++i) {
                load_line(p, &v, image, i, ring + ((i + v.pad_line) % 3) * slot_len, len);
            }
            next = first + 3;
            int16_t *rows[3];
            for (int32_t k = 0; k < 3; ++k) {
                const int32_t i = first + k;
                rows[k] = i < 0 || i >= v.lines_in ? zp_slot
                                                   : ring + ((i + v.pad_line) % 3) * slot_len;
            }
            planar_line(p, &v, rows, len, out_image + l * v.out_line);
        }
    }
}

#endif /* KT_FAST_KERNELS && KT_DSP_WEIGHTS */
