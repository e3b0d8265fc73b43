/* CONV_2D fast path for pointwise layers with few input channels (MobileNet's early 1x1
 * layers, e.g. 48x48x8 -> 16), called by kt_conv2d_s8 on Armv7E-M (int16 weights, rq_fast).
 *
 * With K = in_c = 4, 8 or 16 the generic path's per-pixel-pair column widening, dot-product
 * call and row-pair requantization cost several instructions per MAC. This kernel runs pixel-major:
 * a pixel's in_c int8 inputs are loaded once (one LDR per 4) and split by SXTB16 into halfword
 * lanes E = (x0, x2), O = (x1, x3) per word; then for each output channel one LDM reads the
 * channel's block (kt_pw_block below: its weights in the same lane order, so SMLAD takes them
 * as they are), SMLADs accumulate onto the bias, and the result is requantized, saturated and
 * packed into the output word (4 channels per STR).
 *
 * Numerics. The blocks hold the weights and the folded bias doubled, so the accumulator is
 * acc2 = 2 * acc with acc = folded_bias + sum w * x as in every fast path. This is exact: for
 * rq_fast layers the generator bounds |acc| < 2^30 for every int8 input (accumulator_bound
 * adds |bias| and 255 * sum |w|), which also bounds every partial sum (it is the accumulator
 * of the input with the remaining x at 0) and the folded bias (all x at 0), so 2 * acc and
 * each partial 2 * acc fit in int32; doubled int8 weights (|2w| <= 256) fit int16 lanes.
 * Then kt_mbqm_dsp(acc) = (SMMLAR(2 acc, m, offset) + (acc >> 31)) >> e, and acc >> 31 =
 * acc2 >> 31: the doubling replaces kt_mbqm_dsp's LSL. The result is saturated to int8 (SSAT;
 * exact since [act_min, act_max] lies in [-128, 127]) and clamped lane-wise after packing
 * (SSUB8 + SEL, as kt_pack_clamp4_s8), skipped when the bound is -128 / 127.
 *
 * Scratch: KT_CONV_POINTWISE_BYTES(in_c, out_c) (kenning_tasks.codegen.lowering
 * conv_pointwise_scratch_bytes reserves it for the layers KT_CONV_POINTWISE_SHAPE accepts); the
 * blocks are built there at every call from the packed weights (~10 instructions per weight
 * word, under 2% of the layer).
 */
#include "kt_dsp.h"
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#if KT_FAST_KERNELS && KT_DSP_REQUANT

/* A channel's block, in_c / 2 + 4 words: for each 4 inputs the weight pairs (2 w0, 2 w2) and
 * (2 w1, 2 w3) (the packed layout's SXTB16 lane order, doubled), then 2 * folded_bias, and the
 * kt_rq_channel constants offset, multiplier, shift. The last channel's shift word has
 * KT_PW_LAST set (ASR by register only reads the shift's low byte). */
#define KT_PW_LAST 0x100

static uint32_t pack16_s(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}

/* Channel oc's blocks from the pack4_rows_s16 layout (rows of in_c, a multiple of 4, so no
 * tails): in a full group of 4 rows chunk j of row r is at 16 j + 4 r (int16 index), a last
 * group of fewer than 4 rows is row-major. A chunk holds (w0, w2, w1, w3). */
static void build_blocks(const kt_conv2d_params *p, uint32_t *blk)
{
    const int32_t len = p->in_c, out_c = p->out_c;
    const uint8_t *weights = (const uint8_t *)p->weights;
    for (int32_t oc = 0; oc < out_c; ++oc) {
        const int32_t g = oc >> 2, r = oc & 3;
        const int32_t full = g * 4 + 4 <= out_c;
        const int32_t base = full ? g * 4 * len + r * 4 : oc * len;
        const int32_t chunk = full ? 16 : 4;
        for (int32_t j = 0; j < len / 4; ++j) {
            int16_t w[4];
            KT_MEMCPY(w, weights + 2 * (base + j * chunk), sizeof w);
            *blk++ = pack16_s(2 * w[0], 2 * w[1]);
            *blk++ = pack16_s(2 * w[2], 2 * w[3]);
        }
        const kt_rq_channel *c = p->rq_fast + oc;
        *blk++ = (uint32_t)p->folded_bias[oc] << 1; /* exact: |folded_bias| < 2^30 */
        *blk++ = (uint32_t)c->offset;
        *blk++ = (uint32_t)c->multiplier;
        *blk++ = (uint32_t)c->shift | (oc == out_c - 1 ? KT_PW_LAST : 0);
    }
}

#if defined(__ARM_FEATURE_DSP)
/* The loop in assembly (all 14 registers), one routine per in_c and clamp:
 * kt_pw{4,8}_{full,hi,both}(const kt_pw_run *), kt_pw16_full. Per channel (in_c 8): LDM of
 * 4 weight words and the bias, 4 SMLAD, LDM of the constants, SMMLAR, ADD ... ASR #31, ASR,
 * SSAT, and per 4 channels 3 BFI, the clamp, one STR, TST of the last marker and the branch. */
typedef struct {
    const int8_t *in, *in_end;
    const uint32_t *blocks;
    int8_t *out;
    uint32_t lo4, hi4;
} kt_pw_run;

void kt_pw4_full(const kt_pw_run *r);
void kt_pw4_hi(const kt_pw_run *r);
void kt_pw4_both(const kt_pw_run *r);
void kt_pw8_full(const kt_pw_run *r);
void kt_pw16_full(const kt_pw_run *r);
void kt_pw8_hi(const kt_pw_run *r);
void kt_pw8_both(const kt_pw_run *r);

/* Registers: in_c 8: r0..r3 = E0, O0, E1, O1; r4..r8 = the 4 weight words and the
 * accumulator, then r4..r6 = offset, multiplier, shift; r9 = block pointer.
 * in_c 4: r0, r1 = E0, O0; r4..r9 = the 2 weight words, accumulator, offset, multiplier,
 * shift; r2 = block pointer. Both: r10 = out, r11 = in, r12 = output word, lr = hi4,
 * r3 (in_c 4) / r4 (in_c 8) = the saturated channel; stack: [sp] blocks, [sp, #4] in_end,
 * [sp, #8] lo4 (of 20 bytes, keeping sp 8-aligned). */
__asm__(
    "    .syntax unified\n"
    "    .thumb\n"
    "    .text\n"
    /* requantize the accumulator \acc with \off, \mul, \sh (\off gets the result), saturate
     * into \dst */
    "    .macro KT_PW_RQ acc, off, mul, sh, dst\n"
    "    smmlar \\off, \\acc, \\mul, \\off\n"
    "    add \\off, \\off, \\acc, asr #31\n"
    "    asr \\off, \\off, \\sh\n"
    "    ssat \\dst, #8, \\off\n"
    "    .endm\n"
    /* one channel, in_c 8; \k = 0..3 its place in the output word */
    "    .macro KT_PW8_CH k\n"
    "    ldmia r9!, {r4-r8}\n"
    "    smlad r8, r4, r0, r8\n"
    "    smlad r8, r5, r1, r8\n"
    "    smlad r8, r6, r2, r8\n"
    "    smlad r8, r7, r3, r8\n"
    "    ldmia r9!, {r4-r6}\n"
    "    .if \\k == 3\n"
    "    tst r6, #0x100\n"
    "    .endif\n"
    "    .if \\k == 0\n"
    "    KT_PW_RQ r8, r4, r5, r6, r12\n"
    "    .else\n"
    "    KT_PW_RQ r8, r4, r5, r6, r4\n"
    "    bfi r12, r4, #(8 * \\k), #8\n"
    "    .endif\n"
    "    .endm\n"
    "    .macro KT_PW4_CH k\n"
    "    ldmia r2!, {r4-r9}\n"
    "    smlad r6, r4, r0, r6\n"
    "    smlad r6, r5, r1, r6\n"
    "    .if \\k == 3\n"
    "    tst r9, #0x100\n"
    "    .endif\n"
    "    .if \\k == 0\n"
    "    KT_PW_RQ r6, r7, r8, r9, r12\n"
    "    .else\n"
    "    KT_PW_RQ r6, r7, r8, r9, r3\n"
    "    bfi r12, r3, #(8 * \\k), #8\n"
    "    .endif\n"
    "    .endm\n"
    /* the output word's clamp (t, u: free registers) and store */
    "    .macro KT_PW_STORE lo, hi, t, u\n"
    "    .if \\lo\n"
    "    ldr \\u, [sp, #8]\n"
    "    ssub8 \\t, r12, \\u\n"
    "    sel r12, r12, \\u\n"
    "    .endif\n"
    "    .if \\hi\n"
    "    ssub8 \\t, r12, lr\n"
    "    sel r12, lr, r12\n"
    "    .endif\n"
    "    str r12, [r10], #4\n"
    "    .endm\n"
    "    .macro KT_PW_ENTRY name\n"
    "    .global \\name\n"
    "    .type \\name, %function\n"
    "    .thumb_func\n"
    "    .p2align 2\n"
    "\\name:\n"
    "    push {r4-r11, lr}\n"
    "    sub sp, sp, #20\n"
    "    ldr r11, [r0, #0]\n"
    "    ldr r1, [r0, #4]\n"
    "    ldr r2, [r0, #8]\n"
    "    ldr r10, [r0, #12]\n"
    "    ldr r3, [r0, #16]\n"
    "    ldr lr, [r0, #20]\n"
    "    str r2, [sp, #0]\n"
    "    str r1, [sp, #4]\n"
    "    str r3, [sp, #8]\n"
    "    .endm\n"
    "    .macro KT_PW_EXIT name\n"
    "    add sp, sp, #20\n"
    "    pop {r4-r11, pc}\n"
    "    .size \\name, . - \\name\n"
    "    .endm\n"
    "    .macro KT_PW8 name, lo, hi\n"
    "    KT_PW_ENTRY \\name\n"
    "1:\n"
    "    ldr r1, [r11, #4]\n"
    "    ldr r0, [r11], #8\n"
    "    sxtb16 r3, r1, ror #8\n"
    "    sxtb16 r2, r1\n"
    "    sxtb16 r1, r0, ror #8\n"
    "    sxtb16 r0, r0\n"
    "    ldr r9, [sp, #0]\n"
    "2:\n"
    "    KT_PW8_CH 0\n"
    "    KT_PW8_CH 1\n"
    "    KT_PW8_CH 2\n"
    "    KT_PW8_CH 3\n"
    "    KT_PW_STORE \\lo, \\hi, r4, r5\n"
    "    beq 2b\n"
    "    ldr r4, [sp, #4]\n"
    "    cmp r11, r4\n"
    "    bne 1b\n"
    "    KT_PW_EXIT \\name\n"
    "    .endm\n"
    "    .macro KT_PW4 name, lo, hi\n"
    "    KT_PW_ENTRY \\name\n"
    "1:\n"
    "    ldr r0, [r11], #4\n"
    "    sxtb16 r1, r0, ror #8\n"
    "    sxtb16 r0, r0\n"
    "    ldr r2, [sp, #0]\n"
    "2:\n"
    "    KT_PW4_CH 0\n"
    "    KT_PW4_CH 1\n"
    "    KT_PW4_CH 2\n"
    "    KT_PW4_CH 3\n"
    "    KT_PW_STORE \\lo, \\hi, r3, r4\n"
    "    beq 2b\n"
    "    ldr r3, [sp, #4]\n"
    "    cmp r11, r3\n"
    "    bne 1b\n"
    "    KT_PW_EXIT \\name\n"
    "    .endm\n"
    /* in_c 16 (full activation range only): r0..r7 = E0, O0, .. E3, O3, r8 = block pointer,
     * r9 = out, r10 = accumulator, r11, r12, lr = 3 block words at a time; [sp, #12] = in.
     * The bias is added after the products (sums are modular, so the order is free). */
    "    .macro KT_PW16 name\n"
    "    KT_PW_ENTRY \\name\n"
    "    mov r9, r10\n"
    "    str r11, [sp, #12]\n"
    "1:\n"
    "    ldr r10, [sp, #12]\n"
    "    ldr r6, [r10, #12]\n"
    "    ldr r4, [r10, #8]\n"
    "    ldr r2, [r10, #4]\n"
    "    ldr r0, [r10], #16\n"
    "    str r10, [sp, #12]\n"
    "    sxtb16 r7, r6, ror #8\n"
    "    sxtb16 r6, r6\n"
    "    sxtb16 r5, r4, ror #8\n"
    "    sxtb16 r4, r4\n"
    "    sxtb16 r3, r2, ror #8\n"
    "    sxtb16 r2, r2\n"
    "    sxtb16 r1, r0, ror #8\n"
    "    sxtb16 r0, r0\n"
    "    ldr r8, [sp, #0]\n"
    "2:\n"
    "    ldmia r8!, {r11, r12, lr}\n"
    "    smuad r10, r11, r0\n"
    "    smlad r10, r12, r1, r10\n"
    "    smlad r10, lr, r2, r10\n"
    "    ldmia r8!, {r11, r12, lr}\n"
    "    smlad r10, r11, r3, r10\n"
    "    smlad r10, r12, r4, r10\n"
    "    smlad r10, lr, r5, r10\n"
    "    ldmia r8!, {r11, r12, lr}\n"
    "    smlad r10, r11, r6, r10\n"
    "    smlad r10, r12, r7, r10\n"
    "    add r10, r10, lr\n"
    "    ldmia r8!, {r11, r12, lr}\n"
    "    KT_PW_RQ r10, r11, r12, lr, r11\n"
    "    strb r11, [r9], #1\n"
    "    tst lr, #0x100\n"
    "    beq 2b\n"
    "    ldr r10, [sp, #12]\n"
    "    ldr r11, [sp, #4]\n"
    "    cmp r10, r11\n"
    "    bne 1b\n"
    "    KT_PW_EXIT \\name\n"
    "    .endm\n"
    "    KT_PW16 kt_pw16_full\n"
    "    KT_PW8 kt_pw8_full, 0, 0\n"
    "    KT_PW8 kt_pw8_hi, 0, 1\n"
    "    KT_PW8 kt_pw8_both, 1, 1\n"
    "    KT_PW4 kt_pw4_full, 0, 0\n"
    "    KT_PW4 kt_pw4_hi, 0, 1\n"
    "    KT_PW4 kt_pw4_both, 1, 1\n");

static void run_blocks(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                       const uint32_t *blocks, int32_t pixels)
{
    const uint32_t lo4 = ((uint32_t)p->act_min & 0xffu) * 0x01010101u;
    const uint32_t hi4 = ((uint32_t)p->act_max & 0xffu) * 0x01010101u;
    const kt_pw_run r = {input, input + pixels * p->in_c, blocks, output, lo4, hi4};
    const int32_t lo = p->act_min > -128, hi = p->act_max < 127;
    if (p->in_c == 16) {
        kt_pw16_full(&r); /* only with act_min -128, act_max 127 (kt_conv2d_s8_pointwise) */
    } else if (p->in_c == 8) {
        if (lo) {
            kt_pw8_both(&r);
        } else if (hi) {
            kt_pw8_hi(&r);
        } else {
            kt_pw8_full(&r);
        }
    } else if (lo) {
        kt_pw4_both(&r);
    } else if (hi) {
        kt_pw4_hi(&r);
    } else {
        kt_pw4_full(&r);
    }
}
#else
/* The same loop in C (the host build with KT_EMULATE_DSP): the instructions as kt_dsp.h and
 * kt_fixedpoint.h model them. */
static void run_blocks(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                       const uint32_t *blocks, int32_t pixels)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, lo = p->act_min, hi = p->act_max;
    for (int32_t n = 0; n < pixels; ++n, input += in_c) {
        uint32_t x[8]; /* E0, O0, E1, O1, ... */
        for (int32_t j = 0; j < in_c / 4; ++j) {
            const uint32_t v = kt_load_u32(input + 4 * j);
            x[2 * j] = kt_sxtb16(v);
            x[2 * j + 1] = kt_sxtb16_ror8(v);
        }
        const uint32_t *blk = blocks;
        for (int32_t oc = 0; oc < out_c; ++oc, ++output) {
            int32_t acc2 = (int32_t)blk[in_c / 2];
            for (int32_t k = 0; k < in_c / 2; ++k) {
                acc2 = kt_smlad(blk[k], x[k], acc2);
            }
            const uint32_t *c = blk + in_c / 2 + 1; /* offset, multiplier, shift */
            int32_t t = kt_smmlar(acc2, (int32_t)c[1], (int32_t)c[0]);
            t = (t + (acc2 >> 31)) >> (c[2] & 0xff);
            *output = (int8_t)kt_clamp_i32(kt_ssat8(t), lo, hi);
            blk += in_c / 2 + 4;
        }
    }
}
#endif

int32_t kt_conv2d_s8_pointwise(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                               void *scratch)
{
    if (!KT_CONV_POINTWISE_SHAPE(p->k_h, p->k_w, p->stride_h, p->stride_w, p->pad_h, p->pad_w,
                                 p->in_c, p->out_c) ||
        !p->rq_fast || !p->weights_s16 ||
        (p->in_c == 16 && (p->act_min > -128 || p->act_max < 127))) {
        return 0;
    }
    uint32_t *blocks = (uint32_t *)scratch;
    build_blocks(p, blocks);
    run_blocks(p, input, output, blocks, p->batches * p->out_h * p->out_w);
    return 1;
}

#elif KT_FAST_KERNELS
int32_t kt_conv2d_s8_pointwise(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                               void *scratch)
{
    (void)p;
    (void)input;
    (void)output;
    (void)scratch;
    return 0; /* the blocks are built from int16 weights: Armv7E-M layouts only */
}
#else
typedef int kt_conv2d_pointwise_unused; /* ISO C forbids an empty translation unit */
#endif
