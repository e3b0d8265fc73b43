/* The Armv7E-M DSP instructions the fast kernels use, as inline functions: the real
 * instructions where __ARM_FEATURE_DSP is set (Cortex-M4/M7/M33), C models of them with
 * -DKT_EMULATE_DSP (so the host tests check the lane bookkeeping against the reference loops).
 * Only included where KT_HAVE_DSP is 1; the portable kernels use plain C instead.
 */
#ifndef KT_DSP_H
#define KT_DSP_H

#include <stdint.h>

#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#if defined(__ARM_FEATURE_DSP) || defined(KT_EMULATE_DSP)
#define KT_HAVE_DSP 1
#else
#define KT_HAVE_DSP 0
#endif

#if defined(__GNUC__)
#define KT_ALWAYS_INLINE inline __attribute__((always_inline))
#define KT_NOINLINE __attribute__((noinline))
/* GCC's first scheduling pass hoists the loads of an unrolled MAC block and then spills the
 * registers it ran out of; kernels with long written-out blocks turn it off. */
#define KT_NO_SCHED1 __attribute__((optimize("no-schedule-insns")))
#else
#define KT_NO_SCHED1
#define KT_ALWAYS_INLINE inline
#define KT_NOINLINE
#endif

/* 4 bytes from any address (a single unaligned-capable LDR on Cortex-M3 and later). */
static inline uint32_t kt_load_u32(const void *p)
{
    uint32_t v;
    KT_MEMCPY(&v, p, sizeof v);
    return v;
}

#if KT_HAVE_DSP
#if defined(__ARM_FEATURE_DSP)
/* Even bytes (0, 2) sign-extended into the two halfwords. */
static inline uint32_t kt_sxtb16(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}
/* Odd bytes (1, 3) sign-extended into the two halfwords. */
static inline uint32_t kt_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
/* acc + lo(a) * lo(b) + hi(a) * hi(b), signed halfwords. */
static inline int32_t kt_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
/* acc + lo(a) * lo(b) */
static inline int32_t kt_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
/* acc + hi(a) * hi(b) */
static inline int32_t kt_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
/* acc + lo(a) * hi(b) */
static inline int32_t kt_smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlabt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
/* acc + hi(a) * lo(b) */
static inline int32_t kt_smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlatb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
/* Each signed halfword of x clamped to [lo, hi] (the bounds replicated in both halves of lo2,
 * hi2): SSUB16 sets the GE flags per halfword, SEL picks by them. */
static inline uint32_t kt_clamp16x2(uint32_t x, uint32_t lo2, uint32_t hi2)
{
    uint32_t t;
    __asm__("ssub16 %1, %0, %2\n\tsel %0, %0, %2" : "+r"(x), "=&r"(t) : "r"(lo2) : "cc");
    __asm__("ssub16 %1, %0, %2\n\tsel %0, %2, %0" : "+r"(x), "=&r"(t) : "r"(hi2) : "cc");
    return x;
}
#else
static inline uint32_t kt_pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}
static inline int32_t kt_lo16(uint32_t x) { return (int32_t)(int16_t)(x & 0xffff); }
static inline int32_t kt_hi16(uint32_t x) { return (int32_t)(int16_t)(x >> 16); }
static inline uint32_t kt_sxtb16(uint32_t x)
{
    return kt_pack16((int8_t)(x & 0xff), (int8_t)((x >> 16) & 0xff));
}
static inline uint32_t kt_sxtb16_ror8(uint32_t x) { return kt_sxtb16((x >> 8) | (x << 24)); }
static inline int32_t kt_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kt_lo16(a) * kt_lo16(b)) +
                     (uint32_t)(kt_hi16(a) * kt_hi16(b)));
}
static inline int32_t kt_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kt_lo16(a) * kt_lo16(b)));
}
static inline int32_t kt_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kt_hi16(a) * kt_hi16(b)));
}
static inline int32_t kt_smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kt_lo16(a) * kt_hi16(b)));
}
static inline int32_t kt_smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kt_hi16(a) * kt_lo16(b)));
}
static inline int32_t kt_ssat8(int32_t x) { return kt_clamp_i32(x, -128, 127); }
static inline uint32_t kt_clamp16x2(uint32_t x, uint32_t lo2, uint32_t hi2)
{
    const int32_t lo = kt_lo16(lo2), hi = kt_lo16(hi2);
    return kt_pack16(kt_clamp_i32(kt_lo16(x), lo, hi), kt_clamp_i32(kt_hi16(x), lo, hi));
}
#endif
#if defined(__ARM_FEATURE_DSP)
/* Four outputs requantized (kt_mbqm_channel) and stored as one word, branch-free on Armv7E-M: each result is
 * saturated to int8 by SSAT (exact: [act_min, act_max] lies inside [-128, 127], so clamping the
 * saturated value gives the same byte as clamping the wide one), two PKHBT + UXTB16 + ORR pack
 * the 4 bytes, and the activation bounds are applied lane-wise (SSUB8 + SEL for max, then min)
 * against the bounds replicated to 4 bytes. ~9 instructions per 4 outputs instead of ~7 per
 * output (compare/branch clamp, UXTB, shift, ORR). */
static KT_ALWAYS_INLINE int32_t kt_ssat8(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}
/* Four saturated bytes s0..s3 packed into one word and clamped to [lo, hi] lane-wise. */
static KT_ALWAYS_INLINE uint32_t kt_pack_clamp4_s8(int32_t s0, int32_t s1, int32_t s2, int32_t s3,
                                                   uint32_t lo4, uint32_t hi4)
{
    uint32_t e, o;
    __asm__("pkhbt %0, %1, %2, lsl #16\n\tuxtb16 %0, %0" : "=&r"(e) : "r"(s0), "r"(s2));
    __asm__("pkhbt %0, %1, %2, lsl #16\n\tuxtb16 %0, %0" : "=&r"(o) : "r"(s1), "r"(s3));
    const uint32_t v = e | o << 8;
    uint32_t r, t;
    /* SSUB8 sets a GE flag per lane where the first operand >= the second; SEL picks by them. */
    __asm__("ssub8 %1, %2, %3\n\tsel %0, %2, %3" : "=r"(r), "=&r"(t) : "r"(v), "r"(lo4) : "cc");
    __asm__("ssub8 %1, %0, %2\n\tsel %0, %2, %0" : "+r"(r), "=&r"(t) : "r"(hi4) : "cc");
    return r;
}
static KT_ALWAYS_INLINE uint32_t kt_requant4_s8(int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                                const kt_rq_channel *rq, uint32_t lo4, uint32_t hi4)
{
    return kt_pack_clamp4_s8(kt_ssat8(kt_mbqm_channel(a0, rq)), kt_ssat8(kt_mbqm_channel(a1, rq + 1)),
                             kt_ssat8(kt_mbqm_channel(a2, rq + 2)),
                             kt_ssat8(kt_mbqm_channel(a3, rq + 3)), lo4, hi4);
}
/* Four saturated bytes packed into one word, for the activation range [-128, 127], where the
 * saturation is the whole clamp. */
static KT_ALWAYS_INLINE uint32_t kt_pack4_s8(int32_t s0, int32_t s1, int32_t s2, int32_t s3)
{
    uint32_t e, o;
    __asm__("pkhbt %0, %1, %2, lsl #16\n\tuxtb16 %0, %0" : "=&r"(e) : "r"(s0), "r"(s2));
    __asm__("pkhbt %0, %1, %2, lsl #16\n\tuxtb16 %0, %0" : "=&r"(o) : "r"(s1), "r"(s3));
    return e | o << 8;
}
/* kt_requant4_s8 for the activation range [-128, 127]. */
static KT_ALWAYS_INLINE uint32_t kt_requant4_full_s8(int32_t a0, int32_t a1, int32_t a2,
                                                     int32_t a3, const kt_rq_channel *rq)
{
    return kt_pack4_s8(kt_ssat8(kt_mbqm_channel(a0, rq)), kt_ssat8(kt_mbqm_channel(a1, rq + 1)),
                       kt_ssat8(kt_mbqm_channel(a2, rq + 2)),
                       kt_ssat8(kt_mbqm_channel(a3, rq + 3)));
}
/* kt_requant2x2_s8 (below) for the activation range [-128, 127]. */
static KT_ALWAYS_INLINE uint32_t kt_requant2x2_full_s8(int32_t a0, int32_t a1, int32_t b0,
                                                       int32_t b1, const kt_rq_channel *rq)
{
    return kt_pack4_s8(kt_ssat8(kt_mbqm_channel(a0, rq)), kt_ssat8(kt_mbqm_channel(a1, rq + 1)),
                       kt_ssat8(kt_mbqm_channel(b0, rq)), kt_ssat8(kt_mbqm_channel(b1, rq + 1)));
}
/* Two channels (rq, rq + 1) of two pixels: the bytes (a0, a1, b0, b1), each channel's constants
 * read once for both pixels. */
static KT_ALWAYS_INLINE uint32_t kt_requant2x2_s8(int32_t a0, int32_t a1, int32_t b0, int32_t b1,
                                                  const kt_rq_channel *rq, uint32_t lo4,
                                                  uint32_t hi4)
{
    return kt_pack_clamp4_s8(kt_ssat8(kt_mbqm_channel(a0, rq)), kt_ssat8(kt_mbqm_channel(a1, rq + 1)),
                             kt_ssat8(kt_mbqm_channel(b0, rq)), kt_ssat8(kt_mbqm_channel(b1, rq + 1)),
                             lo4, hi4);
}
#endif
#endif /* KT_HAVE_DSP */

#endif /* KT_DSP_H */
