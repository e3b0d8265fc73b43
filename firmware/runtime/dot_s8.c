/* Inner products and requantization of the fast CONV_2D / FULLY_CONNECTED paths:
 *   out[r] = acc_init[r] + sum_k rows[r][k] * col[k]     (int32, wrapping like the reference)
 *
 * Variants of the same arithmetic:
 *  - Armv7E-M (Cortex-M4/M7, __ARM_FEATURE_DSP): the column is widened once to int16 pairs in
 *    SXTB16 lane order (kt_widen_col_s8); then each group of 4 weights costs 1 LDR, 2 SXTB16 and
 *    2 SMLAD (2 MACs each), and the column words are shared by 4 rows.
 *  - host with -DKT_EMULATE_DSP: the same code with C models of SXTB16/SMLAD, so the lane
 *    bookkeeping is tested on the host against the reference loops.
 *  - otherwise (Cortex-M3, host): plain C, four rows at a time so each column byte is loaded once
 *    per four MLAs.
 * Weight rows come in the generator's "pack4" layout (kenning_tasks.codegen.lowering.pack4_rows):
 * each group of 4 rows is interleaved per 4-byte chunk, so a single pointer walks the 16 weight
 * bytes that meet one column word; a group's len % 4 tail bytes follow it row by row; a last
 * group of fewer than 4 rows is plain row-major.
 */
#include <string.h>

#include "kt_fixedpoint.h"
#include "kt_kernels.h"

const uint8_t KT_RUNTIME_ABI = 1;

void kt_requant_block_s8(const int32_t *acc, int32_t n, const int32_t *multiplier,
                         const int32_t *shift, int32_t output_offset, int32_t act_min,
                         int32_t act_max, int8_t *out)
{
    /* kt_mbqm with the parameters in registers and the shift cases split (a right shift is the
     * common case: conv/FC multipliers are usually < 1). */
    for (int32_t i = 0; i < n; ++i) {
        const int32_t s = shift[i];
        int32_t x = acc[i];
        if (s > 0) {
            x = kt_wrap_shl(x, (int)s);
        }
        x = kt_srdhm_pos(x, multiplier[i]);
        if (s < 0) {
            x = kt_rdbypot(x, (int)-s);
        }
        x += output_offset;
        out[i] = (int8_t)kt_clamp_i32(x, act_min, act_max);
    }
}

#if defined(__ARM_FEATURE_DSP) || defined(KT_EMULATE_DSP)

static inline uint32_t load_u32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v); /* single (unaligned-capable) LDR on Cortex-M3+ */
    return v;
}

#if defined(__ARM_FEATURE_DSP)
/* Even bytes (0, 2) sign-extended into the two halfwords. */
static inline uint32_t sxtb16(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}
/* Odd bytes (1, 3) sign-extended into the two halfwords. */
static inline uint32_t sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
#else
static inline uint32_t pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}
static inline uint32_t sxtb16(uint32_t x)
{
    return pack16((int8_t)(x & 0xff), (int8_t)((x >> 16) & 0xff));
}
static inline uint32_t sxtb16_ror8(uint32_t x)
{
    return sxtb16((x >> 8) | (x << 24));
}
static inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t lo = (int32_t)(int16_t)(a & 0xffff) * (int32_t)(int16_t)(b & 0xffff);
    int32_t hi = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
#endif

void kt_widen_col_s8(const int8_t *col, int32_t len, uint32_t *col16)
{
    for (int32_t k = 0; k + 4 <= len; k += 4) {
        const uint32_t x = load_u32(col + k);
        *col16++ = sxtb16(x);      /* (x0, x2) */
        *col16++ = sxtb16_ror8(x); /* (x1, x3) */
    }
}

/* 4 weights of one row against the current column pair (ce, co). */
#define KT_MAC4(acc, w, ce, co)                                 \
    do {                                                        \
        const uint32_t v_ = load_u32(w);                        \
        (acc) = smlad(sxtb16(v_), (ce), (acc));                 \
        (acc) = smlad(sxtb16_ror8(v_), (co), (acc));            \
    } while (0)

void kt_dot_rows_s8(const int8_t *col, const uint32_t *col16, const int8_t *rows,
                    int32_t n_rows, int32_t len, const int32_t *acc_init, int32_t *out)
{
    const int32_t len4 = len & ~3;
    const int32_t tail = len - len4;
    int32_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const int8_t *w = rows + r * len; /* 4 interleaved rows (pack4 layout) */
        int32_t a0 = acc_init[r], a1 = acc_init[r + 1], a2 = acc_init[r + 2], a3 = acc_init[r + 3];
        const uint32_t *c = col16;
        const uint32_t *c_end = col16 + len4 / 2;
        while (c != c_end) {
            const uint32_t ce = c[0];
            const uint32_t co = c[1];
            c += 2;
            KT_MAC4(a0, w, ce, co);
            KT_MAC4(a1, w + 4, ce, co);
            KT_MAC4(a2, w + 8, ce, co);
            KT_MAC4(a3, w + 12, ce, co);
            w += 16;
        }
        for (int32_t t = 0; t < tail; ++t) {
            const int32_t x = col[len4 + t];
            a0 += w[t] * x;
            a1 += w[tail + t] * x;
            a2 += w[2 * tail + t] * x;
            a3 += w[3 * tail + t] * x;
        }
        out[r] = a0;
        out[r + 1] = a1;
        out[r + 2] = a2;
        out[r + 3] = a3;
    }
    for (; r < n_rows; ++r) { /* leftover rows are stored row-major */
        const int8_t *w0 = rows + r * len;
        int32_t a0 = acc_init[r];
        const uint32_t *c = col16;
        for (int32_t k = 0; k < len4; k += 4) {
            KT_MAC4(a0, w0 + k, c[0], c[1]);
            c += 2;
        }
        for (int32_t k = len4; k < len; ++k) {
            a0 += w0[k] * col[k];
        }
        out[r] = a0;
    }
}

#else /* portable C */

void kt_widen_col_s8(const int8_t *col, int32_t len, uint32_t *col16)
{
    (void)col; /* the portable dot product reads the int8 column directly */
    (void)len;
    (void)col16;
}

void kt_dot_rows_s8(const int8_t *col, const uint32_t *col16, const int8_t *rows,
                    int32_t n_rows, int32_t len, const int32_t *acc_init, int32_t *out)
{
    (void)col16;
    const int32_t len4 = len & ~3;
    const int32_t tail = len - len4;
    int32_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const int8_t *w = rows + r * len; /* 4 interleaved rows (pack4 layout) */
        int32_t a0 = acc_init[r], a1 = acc_init[r + 1], a2 = acc_init[r + 2], a3 = acc_init[r + 3];
        for (int32_t k = 0; k < len4; k += 4) {
            const int32_t x0 = col[k], x1 = col[k + 1], x2 = col[k + 2], x3 = col[k + 3];
            a0 += w[0] * x0 + w[1] * x1 + w[2] * x2 + w[3] * x3;
            a1 += w[4] * x0 + w[5] * x1 + w[6] * x2 + w[7] * x3;
            a2 += w[8] * x0 + w[9] * x1 + w[10] * x2 + w[11] * x3;
            a3 += w[12] * x0 + w[13] * x1 + w[14] * x2 + w[15] * x3;
            w += 16;
        }
        for (int32_t t = 0; t < tail; ++t) {
            const int32_t x = col[len4 + t];
            a0 += w[t] * x;
            a1 += w[tail + t] * x;
            a2 += w[2 * tail + t] * x;
            a3 += w[3 * tail + t] * x;
        }
        out[r] = a0;
        out[r + 1] = a1;
        out[r + 2] = a2;
        out[r + 3] = a3;
    }
    for (; r < n_rows; ++r) { /* leftover rows are stored row-major */
        const int8_t *w0 = rows + r * len;
        int32_t a0 = acc_init[r];
        for (int32_t k = 0; k < len; ++k) {
            a0 += w0[k] * col[k];
        }
        out[r] = a0;
    }
}

#endif
