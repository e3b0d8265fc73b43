/* Inner products and requantization of the fast CONV_2D / FULLY_CONNECTED paths:
 *   out[r] = acc_init[r] + sum_k rows[r][k] * col[k]     (int32, wrapping like the reference)
 * either kept as int32 (kt_dot_rows_s8) or requantized to int8 on the spot (kt_dot_requant_s8,
 * with the per-channel kt_rq_channel constants: one SMLAL-style multiply-accumulate per output).
 *
 * Variants of the same arithmetic:
 *  - Armv7E-M (Cortex-M4/M7, __ARM_FEATURE_DSP): the column is widened once to int16 pairs in
 *    SXTB16 lane order (kt_widen_col_s8); the generator stores the weights already widened in
 *    the same lane order (KT_DSP_WEIGHTS, pack4_rows_s16), so each 16 MACs of 4 rows cost
 *    5 LDRD + 8 SMLAD, written as inline assembly because GCC runs short of registers.
 *  - host with -DKT_EMULATE_DSP: the same code in C with models of SXTB16/SMLAD, so the lane
 *    bookkeeping is tested on the host against the reference loops.
 *  - Armv7E-M with int8 weights (a layer the generator keeps at int8 so the model fits the
 *    board's flash: weights_s16 = 0): SXTB16 widens each weight word on the fly.
 *  - otherwise (Cortex-M0/M3, host): plain C on int8 weights, four rows at a time so each
 *    column byte is loaded once per four MLAs.
 * Weight rows come in the generator's "pack4" layout (kenning_tasks.codegen.lowering.pack4_rows):
 * each group of 4 rows is interleaved per 4-byte chunk, so a single pointer walks the weights
 * that meet one column word; a group's len % 4 tail weights follow it row by row; a last group
 * of fewer than 4 rows is plain row-major.
 */
#include <string.h>

#include "kt_dsp.h"
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

/* Where dot_rows puts each row's sum: the int32 sums (kt_dot_rows_s8), or requantized straight
 * to int8 (kt_dot_requant_s8), so the fused path needs no accumulator array or second pass. */
typedef struct {
    int32_t *acc;              /* non-NULL: store the sums here */
    const kt_rq_channel *rq;   /* else: requantize with these ... */
    int8_t *out;               /* ... into here (the zero point is in the constants) */
    int32_t act_min, act_max;
    uint32_t act_min4, act_max4; /* the bounds' bytes replicated to 4 lanes (kt_requant4_s8) */
    int32_t full;                /* [act_min, act_max] = [-128, 127]: SSAT alone clamps */
} kt_sink;

static KT_ALWAYS_INLINE void sink(const kt_sink *s, int32_t r, int32_t sum)
{
    if (s->acc) {
        s->acc[r] = sum;
    } else {
        const kt_rq_channel *c = s->rq + r;
        const int32_t z = kt_mbqm_channel(sum, c);
        s->out[r] = (int8_t)kt_clamp_i32(z, s->act_min, s->act_max);
    }
}

/* Rows r .. r + 3 (a pack4 group): one word of int8 outputs, branch-free, on Armv7E-M. */
static KT_ALWAYS_INLINE void sink4(const kt_sink *s, int32_t r, int32_t a0, int32_t a1,
                                   int32_t a2, int32_t a3)
{
#if defined(__ARM_FEATURE_DSP)
    if (!s->acc) {
        const uint32_t word = s->full ? kt_requant4_full_s8(a0, a1, a2, a3, s->rq + r)
                                      : kt_requant4_s8(a0, a1, a2, a3, s->rq + r, s->act_min4,
                                                       s->act_max4);
        KT_MEMCPY(s->out + r, &word, 4);
        return;
    }
#endif
    sink(s, r, a0);
    sink(s, r + 1, a1);
    sink(s, r + 2, a2);
    sink(s, r + 3, a3);
}

#if KT_HAVE_DSP

#if defined(__ARM_FEATURE_DSP)
/* One chunk: column pair and 4 rows' weight pairs by post-incremented LDRD, 8 SMLAD. */
#define KT_DSP_CHUNK(a0, a1, a2, a3, c, w)                                                   \
    do {                                                                                     \
        uint32_t ce_, co_, we_, wo_;                                                         \
        __asm__("ldrd %[ce], %[co], [%[c]], #8\n\t"                                           \
                "ldrd %[we], %[wo], [%[w]], #8\n\t"                                           \
                "smlad %[a0], %[we], %[ce], %[a0]\n\t"                                        \
                "smlad %[a0], %[wo], %[co], %[a0]\n\t"                                        \
                "ldrd %[we], %[wo], [%[w]], #8\n\t"                                           \
                "smlad %[a1], %[we], %[ce], %[a1]\n\t"                                        \
                "smlad %[a1], %[wo], %[co], %[a1]\n\t"                                        \
                "ldrd %[we], %[wo], [%[w]], #8\n\t"                                           \
                "smlad %[a2], %[we], %[ce], %[a2]\n\t"                                        \
                "smlad %[a2], %[wo], %[co], %[a2]\n\t"                                        \
                "ldrd %[we], %[wo], [%[w]], #8\n\t"                                           \
                "smlad %[a3], %[we], %[ce], %[a3]\n\t"                                        \
                "smlad %[a3], %[wo], %[co], %[a3]"                                             \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [c] "+r"(c),   \
                  [w] "+r"(w), [ce] "=&r"(ce_), [co] "=&r"(co_), [we] "=&r"(we_),            \
                  [wo] "=&r"(wo_)                                                            \
                :                                                                            \
                : "memory");                                                                 \
    } while (0)
#endif

void kt_widen_col_s8(const int8_t *col, int32_t len, uint32_t *col16)
{
    int32_t k = 0;
    for (; k + 8 <= len; k += 8) { /* two words per loop test */
        const uint32_t x = kt_load_u32(col + k), y = kt_load_u32(col + k + 4);
        col16[0] = kt_sxtb16(x);
        col16[1] = kt_sxtb16_ror8(x);
        col16[2] = kt_sxtb16(y);
        col16[3] = kt_sxtb16_ror8(y);
        col16 += 4;
    }
    for (; k + 4 <= len; k += 4) {
        const uint32_t x = kt_load_u32(col + k);
        *col16++ = kt_sxtb16(x);      /* (x0, x2) */
        *col16++ = kt_sxtb16_ror8(x); /* (x1, x3) */
    }
}

/* Weight words. The int16 weights of a 4-row group start 8 * len bytes apart in an 8-aligned
 * array, so their words are aligned and may be read two at a time (LDRD); the rows of the
 * last, incomplete group may be only 2-aligned and are read with a (unaligned-capable) copy. */
#if defined(__GNUC__)
typedef uint64_t kt_u64_alias __attribute__((may_alias));
#else
typedef uint64_t kt_u64_alias;
#endif

/* Two weight words in one LDRD (a 64-bit load, then its halves). */
#define KT_W2(w, i, lo, hi)                       \
    const uint64_t lo##_pair = (w)[i];             \
    const uint32_t lo = (uint32_t)lo##_pair;       \
    const uint32_t hi = (uint32_t)(lo##_pair >> 32)

static inline uint32_t load_w16x2(const int16_t *p)
{
    uint32_t v;
    KT_MEMCPY(&v, p, sizeof v);
    return v;
}

static KT_ALWAYS_INLINE void dot_rows_s16(const int8_t *col, const uint32_t *col16,
                                         const int8_t *rows, int32_t n_rows, int32_t len,
                                         const int32_t *acc_init, const kt_sink *out)
{
    /* rows holds int16 weights (KT_DSP_WEIGHTS layout, pack4_rows_s16): each chunk of 4 is
     * (w0, w2), (w1, w3), the lane order of col16, so a weight word feeds SMLAD directly. */
    const int16_t *rows16 = (const int16_t *)(const void *)rows;
    const int32_t len4 = len & ~3;
    const int32_t tail = len - len4;
    int32_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const kt_u64_alias *w = (const kt_u64_alias *)(const void *)(rows16 + r * len);
        int32_t a0 = acc_init[r], a1 = acc_init[r + 1], a2 = acc_init[r + 2], a3 = acc_init[r + 3];
        const uint32_t *c = col16;
        const uint32_t *c_end = col16 + len4 / 2;
#if defined(__ARM_FEATURE_DSP)
        /* GCC splits the weight pairs into single LDRs for lack of registers; written out, a
         * chunk of 16 MACs is 5 LDRD + 8 SMLAD. Two chunks per loop iteration. */
        if ((len4 / 4) & 1) {
            KT_DSP_CHUNK(a0, a1, a2, a3, c, w);
        }
        while (c != c_end) {
            KT_DSP_CHUNK(a0, a1, a2, a3, c, w);
            KT_DSP_CHUNK(a0, a1, a2, a3, c, w);
        }
#else
        while (c != c_end) {
            const uint32_t ce = c[0];
            const uint32_t co = c[1];
            c += 2;
            KT_W2(w, 0, w0e, w0o);
            a0 = kt_smlad(w0e, ce, a0);
            a0 = kt_smlad(w0o, co, a0);
            KT_W2(w, 1, w1e, w1o);
            a1 = kt_smlad(w1e, ce, a1);
            a1 = kt_smlad(w1o, co, a1);
            KT_W2(w, 2, w2e, w2o);
            a2 = kt_smlad(w2e, ce, a2);
            a2 = kt_smlad(w2o, co, a2);
            KT_W2(w, 3, w3e, w3o);
            a3 = kt_smlad(w3e, ce, a3);
            a3 = kt_smlad(w3o, co, a3);
            w += 4;
        }
#endif
        const int16_t *wt = (const int16_t *)(const void *)w; /* the group's tails, row by row */
        for (int32_t t = 0; t < tail; ++t) {
            const int32_t x = col[len4 + t];
            a0 += wt[t] * x;
            a1 += wt[tail + t] * x;
            a2 += wt[2 * tail + t] * x;
            a3 += wt[3 * tail + t] * x;
        }
        sink4(out, r, a0, a1, a2, a3);
    }
    /* Leftover rows are stored row-major; two at a time share the column loads (a small
     * classifier's 2 or 3 outputs are all leftovers). They widen the int8 column on the fly,
     * so an int16-weight layer of fewer than 4 rows needs no col16 (fully_connected.c). */
    for (; r + 2 <= n_rows; r += 2) {
        const int16_t *w0 = rows16 + r * len, *w1 = w0 + len;
        int32_t a0 = acc_init[r], a1 = acc_init[r + 1];
        for (int32_t k = 0; k < len4; k += 4) {
            const uint32_t x = kt_load_u32(col + k);
            const uint32_t ce = kt_sxtb16(x), co = kt_sxtb16_ror8(x);
            a0 = kt_smlad(load_w16x2(w0 + k), ce, a0);
            a0 = kt_smlad(load_w16x2(w0 + k + 2), co, a0);
            a1 = kt_smlad(load_w16x2(w1 + k), ce, a1);
            a1 = kt_smlad(load_w16x2(w1 + k + 2), co, a1);
        }
        for (int32_t k = len4; k < len; ++k) {
            a0 += w0[k] * col[k];
            a1 += w1[k] * col[k];
        }
        sink(out, r, a0);
        sink(out, r + 1, a1);
    }
    for (; r < n_rows; ++r) {
        const int16_t *w0 = rows16 + r * len;
        int32_t a0 = acc_init[r];
        for (int32_t k = 0; k < len4; k += 4) {
            const uint32_t x = kt_load_u32(col + k);
            a0 = kt_smlad(load_w16x2(w0 + k), kt_sxtb16(x), a0);
            a0 = kt_smlad(load_w16x2(w0 + k + 2), kt_sxtb16_ror8(x), a0);
        }
        for (int32_t k = len4; k < len; ++k) {
            a0 += w0[k] * col[k];
        }
        sink(out, r, a0);
    }
}

/* int8 pack4 weights on Armv7E-M (a layer kept at int8 so the model fits the flash, see
 * kenning_tasks.codegen.layout): each weight word is widened on the fly into the column's lane
 * order, (w0, w2) by SXTB16 and (w1, w3) by SXTB16 ROR 8, so per 4 MACs of a row: LDR,
 * 2 SXTB16, 2 SMLAD (CMSIS-NN's read-and-pad). */
static KT_ALWAYS_INLINE void dot_rows_s8_dsp(const int8_t *col, const uint32_t *col16,
                                            const int8_t *rows, int32_t n_rows, int32_t len,
                                            const int32_t *acc_init, const kt_sink *out)
{
    const int32_t len4 = len & ~3;
    const int32_t tail = len - len4;
    int32_t r = 0;
    for (; r + 4 <= n_rows; r += 4) {
        const int8_t *w = rows + r * len;
        int32_t a0 = acc_init[r], a1 = acc_init[r + 1], a2 = acc_init[r + 2], a3 = acc_init[r + 3];
        const uint32_t *c = col16;
        const uint32_t *c_end = col16 + len4 / 2;
        while (c != c_end) {
            const uint32_t ce = c[0], co = c[1];
            c += 2;
            uint32_t x = kt_load_u32(w);
            a0 = kt_smlad(kt_sxtb16(x), ce, a0);
            a0 = kt_smlad(kt_sxtb16_ror8(x), co, a0);
            x = kt_load_u32(w + 4);
            a1 = kt_smlad(kt_sxtb16(x), ce, a1);
            a1 = kt_smlad(kt_sxtb16_ror8(x), co, a1);
            x = kt_load_u32(w + 8);
            a2 = kt_smlad(kt_sxtb16(x), ce, a2);
            a2 = kt_smlad(kt_sxtb16_ror8(x), co, a2);
            x = kt_load_u32(w + 12);
            a3 = kt_smlad(kt_sxtb16(x), ce, a3);
            a3 = kt_smlad(kt_sxtb16_ror8(x), co, a3);
            w += 16;
        }
        for (int32_t t = 0; t < tail; ++t) {
            const int32_t x = col[len4 + t];
            a0 += w[t] * x;
            a1 += w[tail + t] * x;
            a2 += w[2 * tail + t] * x;
            a3 += w[3 * tail + t] * x;
        }
        sink4(out, r, a0, a1, a2, a3);
    }
    for (; r < n_rows; ++r) { /* leftover rows are stored row-major */
        const int8_t *w0 = rows + r * len;
        int32_t a0 = acc_init[r];
        const uint32_t *c = col16;
        for (int32_t k = 0; k < len4; k += 4) {
            const uint32_t x = kt_load_u32(w0 + k);
            a0 = kt_smlad(kt_sxtb16(x), c[0], a0);
            a0 = kt_smlad(kt_sxtb16_ror8(x), c[1], a0);
            c += 2;
        }
        for (int32_t k = len4; k < len; ++k) {
            a0 += w0[k] * col[k];
        }
        sink(out, r, a0);
    }
}

#else /* portable C */

void kt_widen_col_s8(const int8_t *col, int32_t len, uint32_t *col16)
{
    (void)col; /* the portable dot product reads the int8 column directly */
    (void)len;
    (void)col16;
}

#endif

#if !KT_HAVE_DSP
/* int8 pack4 weights, plain C: four rows at a time so each column byte is loaded once per four
 * MLAs (Cortex-M0/M3, host). */
static KT_ALWAYS_INLINE void dot_rows_c(const int8_t *col, const int8_t *rows, int32_t n_rows,
                                       int32_t len, const int32_t *acc_init,
                                       const kt_sink *out)
{
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
        sink4(out, r, a0, a1, a2, a3);
    }
    for (; r < n_rows; ++r) { /* leftover rows are stored row-major */
        const int8_t *w0 = rows + r * len;
        int32_t a0 = acc_init[r];
        for (int32_t k = 0; k < len; ++k) {
            a0 += w0[k] * col[k];
        }
        sink(out, r, a0);
    }
}

#endif

/* The layer's weight layout picks the loop: int16 (KT_DSP_WEIGHTS builds, weights_s16 = 1) or
 * int8 pack4 (weights_s16 = 0: every build without DSP, and layers kept at int8 to fit). */
static KT_ALWAYS_INLINE void dot_rows(const int8_t *col, const uint32_t *col16,
                                     const int8_t *rows, int32_t n_rows, int32_t len,
                                     int32_t weights_s16, const int32_t *acc_init,
                                     const kt_sink *out)
{
#if KT_HAVE_DSP
    if (weights_s16) {
        dot_rows_s16(col, col16, rows, n_rows, len, acc_init, out);
    } else {
        dot_rows_s8_dsp(col, col16, rows, n_rows, len, acc_init, out);
    }
#else
    (void)col16;
    (void)weights_s16;
    dot_rows_c(col, rows, n_rows, len, acc_init, out);
#endif
}

/* ---- Two output pixels per pass (CONV_2D) ----------------------------------------------
 * The same sums for two columns a and b at once (CMSIS-NN's two-column im2col): each weight
 * load feeds both pixels' accumulators, and the per-call and per-group costs (setup, loop,
 * the requantization constants, which GCC loads once for both) are shared by two pixels.
 * On Armv7E-M the two columns are widened into one interleaved array, per 4 taps
 * (a0, a2), (a1, a3), (b0, b2), (b1, b3) (kt_widen_cols2_s8), so one pointer walks both.
 * Rows go 4 at a time (a pack4 group) with 8 accumulators; on Armv7E-M as two passes of
 * 2 rows x 2 pixels, the register budget of SMLAD with paired loads (CMSIS-NN's 2x2 kernel). */

#if KT_HAVE_DSP
void kt_widen_cols2_s8(const int8_t *col_a, const int8_t *col_b, int32_t len, uint32_t *col16)
{
    for (int32_t k = 0; k + 4 <= len; k += 4) {
        const uint32_t xa = kt_load_u32(col_a + k);
        const uint32_t xb = kt_load_u32(col_b + k);
        col16[0] = kt_sxtb16(xa);
        col16[1] = kt_sxtb16_ror8(xa);
        col16[2] = kt_sxtb16(xb);
        col16[3] = kt_sxtb16_ror8(xb);
        col16 += 4;
    }
}

#if defined(__ARM_FEATURE_DSP)
/* One chunk of 4 taps for 2 rows x 2 pixels: the 4 column words and 2 rows' weight pairs by
 * post-incremented LDRD (the second row's post-increment skips the group's other two rows),
 * 8 SMLAD: 12 instructions per 16 MACs. */
#define KT_DSP_CHUNK2X2(A0, A1, B0, B1, C, W)                                                  \
    do {                                                                                     \
        uint32_t ae_, ao_, be_, bo_, we_, wo_;                                               \
        __asm__("ldrd %[ae], %[ao], [%[c]], #8\n\t"                                           \
                "ldrd %[be], %[bo], [%[c]], #8\n\t"                                           \
                "ldrd %[we], %[wo], [%[w]], #8\n\t"                                           \
                "smlad %[a0], %[we], %[ae], %[a0]\n\t"                                        \
                "smlad %[a0], %[wo], %[ao], %[a0]\n\t"                                        \
                "smlad %[b0], %[we], %[be], %[b0]\n\t"                                        \
                "smlad %[b0], %[wo], %[bo], %[b0]\n\t"                                        \
                "ldrd %[we], %[wo], [%[w]], #24\n\t"                                          \
                "smlad %[a1], %[we], %[ae], %[a1]\n\t"                                        \
                "smlad %[a1], %[wo], %[ao], %[a1]\n\t"                                        \
                "smlad %[b1], %[we], %[be], %[b1]\n\t"                                        \
                "smlad %[b1], %[wo], %[bo], %[b1]"                                             \
                : [a0] "+r"(A0), [a1] "+r"(A1), [b0] "+r"(B0), [b1] "+r"(B1), [c] "+r"(C),   \
                  [w] "+r"(W), [ae] "=&r"(ae_), [ao] "=&r"(ao_), [be] "=&r"(be_),            \
                  [bo] "=&r"(bo_), [we] "=&r"(we_), [wo] "=&r"(wo_)                          \
                :                                                                            \
                : "memory");                                                                 \
    } while (0)
#endif

/* Rows (r0, r1) of a group against both columns, sums into (a0, a1) for pixel a and (b0, b1)
 * for pixel b; w points at row r0's first chunk. Plain scalars (no array: the asm's memory
 * clobber would keep an array in memory). */
#if defined(__ARM_FEATURE_DSP)
#define KT_PASS2X2_S16(a0, a1, b0, b1, col16, w0, len4)                                      \
    do {                                                                                     \
        const uint32_t *c_ = (col16);                                                        \
        const uint32_t *c_end_ = c_ + (len4);                                                \
        const uint32_t *w_ = (const uint32_t *)(const void *)(w0);                           \
        if (((len4) / 4) & 1) {                                                              \
            KT_DSP_CHUNK2X2(a0, a1, b0, b1, c_, w_);                                         \
        }                                                                                    \
        while (c_ != c_end_) {                                                               \
            KT_DSP_CHUNK2X2(a0, a1, b0, b1, c_, w_);                                         \
            KT_DSP_CHUNK2X2(a0, a1, b0, b1, c_, w_);                                         \
        }                                                                                    \
    } while (0)
#else
#define KT_PASS2X2_S16(a0, a1, b0, b1, col16, w0, len4)                                      \
    do {                                                                                     \
        const uint32_t *c_ = (col16);                                                        \
        const uint32_t *c_end_ = c_ + (len4);                                                \
        const kt_u64_alias *w = (const kt_u64_alias *)(const void *)(w0);                    \
        while (c_ != c_end_) {                                                               \
            KT_W2(w, 0, w0e, w0o);                                                           \
            a0 = kt_smlad(w0e, c_[0], kt_smlad(w0o, c_[1], a0));                             \
            b0 = kt_smlad(w0e, c_[2], kt_smlad(w0o, c_[3], b0));                             \
            KT_W2(w, 1, w1e, w1o);                                                           \
            a1 = kt_smlad(w1e, c_[0], kt_smlad(w1o, c_[1], a1));                             \
            b1 = kt_smlad(w1e, c_[2], kt_smlad(w1o, c_[3], b1));                             \
            c_ += 4;                                                                         \
            w += 4;                                                                          \
        }                                                                                    \
    } while (0)
#endif

/* The same for int8 pack4 weights: each weight word widened once by SXTB16 (+ ROR 8) into the
 * column's lane order feeds 4 SMLAD (2 per pixel). */
#define KT_PASS2X2_S8(a0, a1, b0, b1, col16, w0, len4)                                       \
    do {                                                                                     \
        const uint32_t *c_ = (col16);                                                        \
        const uint32_t *c_end_ = c_ + (len4);                                                \
        const int8_t *w_ = (w0);                                                             \
        while (c_ != c_end_) {                                                               \
            const uint32_t ae_ = c_[0], ao_ = c_[1], be_ = c_[2], bo_ = c_[3];               \
            c_ += 4;                                                                         \
            uint32_t x_ = kt_load_u32(w_);                                                   \
            uint32_t we_ = kt_sxtb16(x_), wo_ = kt_sxtb16_ror8(x_);                          \
            a0 = kt_smlad(we_, ae_, kt_smlad(wo_, ao_, a0));                                 \
            b0 = kt_smlad(we_, be_, kt_smlad(wo_, bo_, b0));                                 \
            x_ = kt_load_u32(w_ + 4);                                                        \
            we_ = kt_sxtb16(x_);                                                             \
            wo_ = kt_sxtb16_ror8(x_);                                                        \
            a1 = kt_smlad(we_, ae_, kt_smlad(wo_, ao_, a1));                                 \
            b1 = kt_smlad(we_, be_, kt_smlad(wo_, bo_, b1));                                 \
            w_ += 16;                                                                        \
        }                                                                                    \
    } while (0)
#else
/* Portable: the two columns' whole words interleaved byte by byte (a0, b0, a1, b1, ...) so the
 * dot product reads both pixels' taps through one pointer (a register short of spilling). */
void kt_widen_cols2_s8(const int8_t *col_a, const int8_t *col_b, int32_t len, uint32_t *col16)
{
    int8_t *ab = (int8_t *)col16;
    for (int32_t k = 0; k + 4 <= len; k += 4) {
        ab[0] = col_a[k], ab[1] = col_b[k], ab[2] = col_a[k + 1], ab[3] = col_b[k + 1];
        ab[4] = col_a[k + 2], ab[5] = col_b[k + 2], ab[6] = col_a[k + 3], ab[7] = col_b[k + 3];
        ab += 8;
    }
}

/* A group of 4 int8 pack4 rows against both (interleaved) columns, plain C (Cortex-M0/M3):
 * each weight byte is loaded once for two MLAs, each column byte once for four: per 8 MACs
 * 2 + 4 loads and 8 MLA (one pixel at a time: 1 + 4 loads per 4 MLA). */
#define KT_TAP4X2_C(j)                                                                       \
    do {                                                                                     \
        const int32_t xa_ = ab_[2 * (j)], xb_ = ab_[2 * (j) + 1];                            \
        int32_t w_j_ = w_[(j)];                                                              \
        a0 += w_j_ * xa_, b0 += w_j_ * xb_;                                                  \
        w_j_ = w_[4 + (j)];                                                                  \
        a1 += w_j_ * xa_, b1 += w_j_ * xb_;                                                  \
        w_j_ = w_[8 + (j)];                                                                  \
        a2 += w_j_ * xa_, b2 += w_j_ * xb_;                                                  \
        w_j_ = w_[12 + (j)];                                                                 \
        a3 += w_j_ * xa_, b3 += w_j_ * xb_;                                                  \
    } while (0)
#define KT_GROUP4X2_C(a0, a1, a2, a3, b0, b1, b2, b3, ab, w0, len4)                          \
    do {                                                                                     \
        const int8_t *w_ = (w0);                                                             \
        const int8_t *ab_ = (ab);                                                            \
        const int8_t *ab_end_ = ab_ + 2 * (len4);                                            \
        while (ab_ != ab_end_) {                                                             \
            KT_TAP4X2_C(0);                                                                  \
            KT_TAP4X2_C(1);                                                                  \
            KT_TAP4X2_C(2);                                                                  \
            KT_TAP4X2_C(3);                                                                  \
            ab_ += 8;                                                                        \
            w_ += 16;                                                                        \
        }                                                                                    \
    } while (0)
#endif

/* The requantized outputs of rows r .. r + 3 for both pixels, pixel a stored before pixel b is
 * requantized: sharing the constants' loads would not pay (SMLAL accumulates onto the rounding
 * constant, so each pixel needs its own copy: two MOVs instead of one LDRD), and it keeps the
 * live registers down to one pixel's four sums. */
static KT_ALWAYS_INLINE void sink4x2(const kt_dot_job *job, int32_t r, int32_t a0, int32_t a1,
                                     int32_t a2, int32_t a3, int32_t b0, int32_t b1, int32_t b2,
                                     int32_t b3, uint32_t lo4, uint32_t hi4, int8_t *out_a,
                                     int8_t *out_b)
{
    const kt_rq_channel *rq = job->rq + r;
#if defined(__ARM_FEATURE_DSP)
    const uint32_t wa = kt_requant4_s8(a0, a1, a2, a3, rq, lo4, hi4);
    KT_MEMCPY(out_a + r, &wa, 4);
    const uint32_t wb = kt_requant4_s8(b0, b1, b2, b3, rq, lo4, hi4);
    KT_MEMCPY(out_b + r, &wb, 4);
#else
    (void)lo4;
    (void)hi4;
    const int32_t lo = job->act_min, hi = job->act_max;
    const int8_t qa[4] = {(int8_t)kt_clamp_i32(kt_mbqm_channel(a0, rq), lo, hi),
                          (int8_t)kt_clamp_i32(kt_mbqm_channel(a1, rq + 1), lo, hi),
                          (int8_t)kt_clamp_i32(kt_mbqm_channel(a2, rq + 2), lo, hi),
                          (int8_t)kt_clamp_i32(kt_mbqm_channel(a3, rq + 3), lo, hi)};
    const int8_t qb[4] = {(int8_t)kt_clamp_i32(kt_mbqm_channel(b0, rq), lo, hi),
                          (int8_t)kt_clamp_i32(kt_mbqm_channel(b1, rq + 1), lo, hi),
                          (int8_t)kt_clamp_i32(kt_mbqm_channel(b2, rq + 2), lo, hi),
                          (int8_t)kt_clamp_i32(kt_mbqm_channel(b3, rq + 3), lo, hi)};
    KT_MEMCPY(out_a + r, qa, 4);
    KT_MEMCPY(out_b + r, qb, 4);
#endif
}

/* The groups of 4 rows for one weight layout (s16 is a constant after inlining). */
static KT_ALWAYS_INLINE int32_t groups4x2(const kt_dot_job *job, const int8_t *col_a,
                                          const int8_t *col_b, const uint32_t *col16,
                                          int8_t *out_a, int8_t *out_b, int32_t s16,
                                          const int32_t full)
{
    (void)full;
    const int32_t len = job->len;
    const int32_t len4 = len & ~3;
    const int32_t tail = len - len4;
    const uint32_t lo4 = (uint32_t)(uint8_t)job->act_min * 0x01010101u;
    const uint32_t hi4 = (uint32_t)(uint8_t)job->act_max * 0x01010101u;
    int32_t r = 0;
    for (; r + 4 <= job->n_rows; r += 4) {
        const int8_t *group = job->rows + r * len * KT_PACKED_WEIGHT_BYTES(s16);
        int32_t a0 = job->bias[r], a1 = job->bias[r + 1];
        int32_t a2 = job->bias[r + 2], a3 = job->bias[r + 3];
        int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
#if defined(__ARM_FEATURE_DSP)
        if (s16 && !tail) {
            /* Short rows (small K) are requantization-bound: each row pair is requantized and
             * stored (a halfword per pixel) as soon as its 4 sums are done, so only 4 sums are
             * live and GCC need not spill. */
            /* full: the activation range is [-128, 127], SSAT alone clamps */
            KT_PASS2X2_S16(a0, a1, b0, b1, col16, group, len4);
            uint32_t q = full ? kt_requant2x2_full_s8(a0, a1, b0, b1, job->rq + r)
                              : kt_requant2x2_s8(a0, a1, b0, b1, job->rq + r, lo4, hi4);
            KT_MEMCPY(out_a + r, &q, 2);
            q >>= 16;
            KT_MEMCPY(out_b + r, &q, 2);
            KT_PASS2X2_S16(a2, a3, b2, b3, col16, group + 16, len4);
            q = full ? kt_requant2x2_full_s8(a2, a3, b2, b3, job->rq + r + 2)
                     : kt_requant2x2_s8(a2, a3, b2, b3, job->rq + r + 2, lo4, hi4);
            KT_MEMCPY(out_a + r + 2, &q, 2);
            q >>= 16;
            KT_MEMCPY(out_b + r + 2, &q, 2);
            continue;
        }
#endif
#if KT_HAVE_DSP
        (void)col16;
        if (s16) {
            /* rows 0, 1 at the chunk's start, rows 2, 3 one row pair (8 int16) further */
            KT_PASS2X2_S16(a0, a1, b0, b1, col16, group, len4);
            KT_PASS2X2_S16(a2, a3, b2, b3, col16, group + 16, len4);
        } else {
            KT_PASS2X2_S8(a0, a1, b0, b1, col16, group, len4);
            KT_PASS2X2_S8(a2, a3, b2, b3, col16, group + 8, len4);
        }
#else
        KT_GROUP4X2_C(a0, a1, a2, a3, b0, b1, b2, b3, (const int8_t *)col16, group, len4);
#endif
        if (tail) { /* the group's len % 4 tail weights follow its chunks, row by row */
            const int32_t base = 4 * len4;
            for (int32_t t = 0; t < tail; ++t) {
                const int32_t xa = col_a[len4 + t], xb = col_b[len4 + t];
                int32_t wv[4];
                for (int32_t i = 0; i < 4; ++i) {
                    const int32_t k = base + i * tail + t;
                    wv[i] = s16 ? ((const int16_t *)(const void *)group)[k] : group[k];
                }
                a0 += wv[0] * xa, b0 += wv[0] * xb;
                a1 += wv[1] * xa, b1 += wv[1] * xb;
                a2 += wv[2] * xa, b2 += wv[2] * xb;
                a3 += wv[3] * xa, b3 += wv[3] * xb;
            }
        }
        sink4x2(job, r, a0, a1, a2, a3, b0, b1, b2, b3, lo4, hi4, out_a, out_b);
    }
    return r;
}

void kt_dot_requant2_s8(const kt_dot_job *job, const int8_t *col_a, const int8_t *col_b,
                        const uint32_t *col16, int8_t *out_a, int8_t *out_b)
{
    const int32_t len = job->len;
    const int32_t esize = KT_PACKED_WEIGHT_BYTES(job->weights_s16);
#if KT_HAVE_DSP
    const int32_t len4 = len & ~3;
    const int32_t full = job->act_min == -128 && job->act_max == 127;
    int32_t r = job->weights_s16 && full
                    ? groups4x2(job, col_a, col_b, col16, out_a, out_b, 1, 1)
                : job->weights_s16 ? groups4x2(job, col_a, col_b, col16, out_a, out_b, 1, 0)
                                   : groups4x2(job, col_a, col_b, col16, out_a, out_b, 0, 0);
#else
    int32_t r = groups4x2(job, col_a, col_b, col16, out_a, out_b, 0, 0);
#endif
    for (; r < job->n_rows; ++r) { /* leftover rows are stored row-major */
        const int8_t *row = job->rows + r * len * esize;
        int32_t a = job->bias[r], b = a;
        int32_t k = 0;
#if KT_HAVE_DSP
        const uint32_t *c = col16;
        for (; k < len4; k += 4, c += 4) {
            uint32_t we, wo;
            if (job->weights_s16) {
                we = load_w16x2((const int16_t *)(const void *)row + k);
                wo = load_w16x2((const int16_t *)(const void *)row + k + 2);
            } else {
                const uint32_t x = kt_load_u32(row + k);
                we = kt_sxtb16(x);
                wo = kt_sxtb16_ror8(x);
            }
            a = kt_smlad(we, c[0], kt_smlad(wo, c[1], a));
            b = kt_smlad(we, c[2], kt_smlad(wo, c[3], b));
        }
#endif
        for (; k < len; ++k) {
            const int32_t wv = job->weights_s16 ? ((const int16_t *)(const void *)row)[k]
                                                : row[k];
            a += wv * col_a[k];
            b += wv * col_b[k];
        }
        const kt_rq_channel *ch = job->rq + r;
        out_a[r] = (int8_t)kt_clamp_i32(kt_mbqm_channel(a, ch), job->act_min, job->act_max);
        out_b[r] = (int8_t)kt_clamp_i32(kt_mbqm_channel(b, ch), job->act_min, job->act_max);
    }
}

#if defined(__ARM_FEATURE_DSP)
/* ---- FULLY_CONNECTED (and a CONV_2D's odd pixel) on Armv7E-M with int16 weights ----------
 * dot_rows_s16's loops with the requantization written out: per group of 4 rows the constants
 * are read through one post-incremented pointer (LDRD offset, multiplier; LDR shift), each lane
 * is kt_mbqm_dsp (LSL, SMMLAR, ADD ASR #31, ASR) + SSAT, and the 4 bytes are packed (PKHBT,
 * UXTB16, ORR) and stored by one post-incremented STR: 34 instructions in 3 scratch registers
 * (4 more for the lane-wise clamp of kt_pack_clamp4_s8), where GCC's version spilled the
 * constants through the stack (~60). The same arithmetic as kt_requant4_s8 / _full_s8. */
#define KT_RQ_LANE(A)                                                                        \
    "ldrd %[o], %[m], [%[rq]], #12\n\t"                                                       \
    "lsl %[t], %[" #A "], #1\n\t"                                                             \
    "smmlar %[t], %[t], %[m], %[o]\n\t"                                                       \
    "ldr %[m], [%[rq], #-4]\n\t"                                                              \
    "add %[" #A "], %[t], %[" #A "], asr #31\n\t"                                             \
    "asr %[" #A "], %[" #A "], %[m]\n\t"                                                      \
    "ssat %[" #A "], #8, %[" #A "]\n\t"
#define KT_RQ_PACK4                                                                          \
    KT_RQ_LANE(a0) KT_RQ_LANE(a1) KT_RQ_LANE(a2) KT_RQ_LANE(a3)                              \
    "pkhbt %[t], %[a0], %[a2], lsl #16\n\t"                                                   \
    "uxtb16 %[t], %[t]\n\t"                                                                   \
    "pkhbt %[o], %[a1], %[a3], lsl #16\n\t"                                                   \
    "uxtb16 %[o], %[o]\n\t"                                                                   \
    "orr %[t], %[t], %[o], lsl #8\n\t"
#define KT_RQ_OPERANDS(A0, A1, A2, A3, RQ, OUT)                                              \
    [a0] "+r"(A0), [a1] "+r"(A1), [a2] "+r"(A2), [a3] "+r"(A3), [rq] "+r"(RQ),               \
        [out] "+r"(OUT), [o] "=&r"(o_), [m] "=&r"(m_), [t] "=&r"(t_)
/* [act_min, act_max] = [-128, 127]: SSAT is the whole clamp. */
#define KT_REQUANT4_FULL_STORE(A0, A1, A2, A3, RQ, OUT)                                      \
    do {                                                                                     \
        uint32_t o_, m_, t_;                                                                 \
        __asm__ volatile(KT_RQ_PACK4 "str %[t], [%[out]], #4"                                 \
                         : KT_RQ_OPERANDS(A0, A1, A2, A3, RQ, OUT)                           \
                         :                                                                   \
                         : "memory", "cc");                                                  \
    } while (0)
/* Otherwise the bounds lane-wise: SSUB8 + SEL for max(lo4), then min(hi4). */
#define KT_REQUANT4_CLAMP_STORE(A0, A1, A2, A3, RQ, OUT, LO4, HI4)                           \
    do {                                                                                     \
        uint32_t o_, m_, t_;                                                                 \
        __asm__ volatile(KT_RQ_PACK4 "ssub8 %[o], %[t], %[lo]\n\t"                            \
                                     "sel %[t], %[t], %[lo]\n\t"                              \
                                     "ssub8 %[o], %[t], %[hi]\n\t"                            \
                                     "sel %[t], %[hi], %[t]\n\t"                              \
                                     "str %[t], [%[out]], #4"                                 \
                         : KT_RQ_OPERANDS(A0, A1, A2, A3, RQ, OUT)                           \
                         : [lo] "r"(LO4), [hi] "r"(HI4)                                      \
                         : "memory", "cc");                                                  \
    } while (0)

static KT_ALWAYS_INLINE int8_t requant_one_dsp(int32_t a, const kt_rq_channel *c, int32_t full,
                                               int32_t lo, int32_t hi)
{
    /* exact: [lo, hi] lies inside [-128, 127], so clamping the saturated value suffices */
    const int32_t z = kt_ssat8(kt_mbqm_channel(a, c));
    return (int8_t)(full ? z : kt_clamp_i32(z, lo, hi));
}

/* Two row-major int16 rows (len % 4 == 0, 2-aligned: read by LDR) against the column: from
 * col16 when widened, else widening each column word on the fly. */
static KT_ALWAYS_INLINE void pair_s16(const int16_t *w0, const int16_t *w1, const int8_t *col,
                                      const uint32_t *col16, int32_t len, int32_t *acc0,
                                      int32_t *acc1, const int32_t widened)
{
    int32_t a0 = *acc0, a1 = *acc1;
    const int16_t *const w0_end = w0 + len;
    if (widened && len) {
        /* GCC splits the column pair into two LDR with separate increments: written out, 8 MACs
         * are LDRD + 4 LDR + 4 SMLAD + the loop test. */
        uint32_t ce_, co_, x_;
        __asm__("1:\n\t"
                "ldrd %[ce], %[co], [%[c]], #8\n\t"
                "ldr %[x], [%[w0]], #4\n\t"
                "smlad %[a0], %[x], %[ce], %[a0]\n\t"
                "ldr %[x], [%[w0]], #4\n\t"
                "smlad %[a0], %[x], %[co], %[a0]\n\t"
                "ldr %[x], [%[w1]], #4\n\t"
                "smlad %[a1], %[x], %[ce], %[a1]\n\t"
                "ldr %[x], [%[w1]], #4\n\t"
                "smlad %[a1], %[x], %[co], %[a1]\n\t"
                "cmp %[w0], %[end]\n\t"
                "bne 1b"
                : [a0] "+r"(a0), [a1] "+r"(a1), [c] "+r"(col16), [w0] "+r"(w0), [w1] "+r"(w1),
                  [ce] "=&r"(ce_), [co] "=&r"(co_), [x] "=&r"(x_)
                : [end] "r"(w0_end)
                : "memory", "cc");
        *acc0 = a0;
        *acc1 = a1;
        return;
    }
    while (w0 != w0_end) {
        uint32_t ce, co;
        if (widened) {
            ce = col16[0], co = col16[1];
            col16 += 2;
        } else {
            const uint32_t x = kt_load_u32(col);
            col += 4;
            ce = kt_sxtb16(x), co = kt_sxtb16_ror8(x);
        }
        a0 = kt_smlad(load_w16x2(w0), ce, a0);
        a0 = kt_smlad(load_w16x2(w0 + 2), co, a0);
        a1 = kt_smlad(load_w16x2(w1), ce, a1);
        a1 = kt_smlad(load_w16x2(w1 + 2), co, a1);
        w0 += 4;
        w1 += 4;
    }
    *acc0 = a0;
    *acc1 = a1;
}

static KT_ALWAYS_INLINE void requant_rows_s16_dsp(const kt_dot_job *job, const int8_t *col,
                                                  const uint32_t *col16, int8_t *out,
                                                  const int32_t full)
{
    /* len % 4 == 0 (kt_dot_requant_s8): no tail weights after a group's chunks */
    const int32_t len = job->len, n_rows = job->n_rows;
    const int32_t n4 = n_rows & ~3;
    const int16_t *rows16 = (const int16_t *)(const void *)job->rows;
    const uint32_t lo4 = (uint32_t)(uint8_t)job->act_min * 0x01010101u;
    const uint32_t hi4 = (uint32_t)(uint8_t)job->act_max * 0x01010101u;
    /* the groups lie back to back: one weight pointer walks them all */
    const kt_u64_alias *w = (const kt_u64_alias *)(const void *)rows16;
    const int32_t *bias = job->bias;
    const kt_rq_channel *rq = job->rq;
    const uint32_t *c_end = col16 + len / 2;
    int8_t *o = out;
    int8_t *const o_end = out + n4;
    while (o != o_end) {
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        bias += 4;
        const uint32_t *c = col16;
        if ((len / 4) & 1) {
            KT_DSP_CHUNK(a0, a1, a2, a3, c, w);
        }
        while (c != c_end) {
            KT_DSP_CHUNK(a0, a1, a2, a3, c, w);
            KT_DSP_CHUNK(a0, a1, a2, a3, c, w);
        }
        if (full) {
            KT_REQUANT4_FULL_STORE(a0, a1, a2, a3, rq, o);
        } else {
            KT_REQUANT4_CLAMP_STORE(a0, a1, a2, a3, rq, o, lo4, hi4);
        }
    }
    /* Leftover rows (at most 3), row-major, two at a time. With groups before them col16 has
     * been filled (fully_connected.c widens it when out_depth >= 4) and they read it; a layer
     * of fewer than 4 rows widens the int8 column on the fly. */
    const int32_t lo = job->act_min, hi = job->act_max;
    for (int32_t r = n4; r < n_rows; r += 2) {
        const int32_t two = r + 1 < n_rows;
        const int16_t *w0 = rows16 + r * len;
        const int16_t *w1 = two ? w0 + len : w0; /* a last single row: computed twice */
        int32_t a0 = bias[0], a1 = two ? bias[1] : 0;
        bias += 2;
        if (n4) {
            pair_s16(w0, w1, col, col16, len, &a0, &a1, 1);
        } else {
            pair_s16(w0, w1, col, col16, len, &a0, &a1, 0);
        }
        o[0] = requant_one_dsp(a0, rq, full, lo, hi);
        if (two) {
            o[1] = requant_one_dsp(a1, rq + 1, full, lo, hi);
        }
        o += 2;
        rq += 2;
    }
}
#endif

void kt_dot_rows_s8(const int8_t *col, const uint32_t *col16, const int8_t *rows,
                    int32_t n_rows, int32_t len, int32_t weights_s16, const int32_t *acc_init,
                    int32_t *out)
{
    const kt_sink to_acc = {out, 0, 0, 0, 0, 0, 0, 0};
    dot_rows(col, col16, rows, n_rows, len, weights_s16, acc_init, &to_acc);
}

void kt_dot_requant_s8(const kt_dot_job *job, const int8_t *col, const uint32_t *col16,
                       int8_t *out)
{
#if defined(__ARM_FEATURE_DSP)
    if (job->weights_s16 && !(job->len & 3)) { /* else dot_rows_s16, which reads the tails */
        if (job->act_min == -128 && job->act_max == 127) { /* a copy without clamps */
            requant_rows_s16_dsp(job, col, col16, out, 1);
        } else {
            requant_rows_s16_dsp(job, col, col16, out, 0);
        }
        return;
    }
#endif
    const uint32_t lo4 = (uint32_t)(uint8_t)job->act_min * 0x01010101u;
    const uint32_t hi4 = (uint32_t)(uint8_t)job->act_max * 0x01010101u;
    if (job->act_min == -128 && job->act_max == 127) { /* a copy of the loops without clamps */
        const kt_sink to_s8 = {0, job->rq, out, -128, 127, lo4, hi4, 1};
        dot_rows(col, col16, job->rows, job->n_rows, job->len, job->weights_s16, job->bias,
                 &to_s8);
        return;
    }
    const kt_sink to_s8 = {0, job->rq, out, job->act_min, job->act_max, lo4, hi4, 0};
    dot_rows(col, col16, job->rows, job->n_rows, job->len, job->weights_s16, job->bias,
             &to_s8);
}
