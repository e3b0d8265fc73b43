/* CONV_2D, int8 activations, per-channel int8 weights, int32 bias (TFLite ConvPerChannel). */
#include <string.h>

#include "kt_dsp.h"
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

/* Output channels handled per kt_dot_rows_s8 call (bounded stack use). */
#define KT_CONV_BLOCK 16

static int8_t requant_one(const kt_conv2d_params *p, int32_t acc, int32_t oc)
{
    acc = kt_mbqm(acc, p->rq.multiplier[oc], (int)p->rq.shift[oc]) + p->output_offset;
    return (int8_t)kt_clamp_i32(acc, p->act_min, p->act_max);
}

/* Readable reference: a direct translation of TFLite's reference_integer_ops::ConvPerChannel. */
void kt_conv2d_s8_ref(const kt_conv2d_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + p->dil_h * ky;
                        if (iy < 0 || iy >= p->in_h) {
                            continue; /* padding contributes zero after the input offset */
                        }
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = ix0 + p->dil_w * kx;
                            if (ix < 0 || ix >= p->in_w) {
                                continue;
                            }
                            const int8_t *in = input + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;
                            const int8_t *w = p->weights + ((oc * p->k_h + ky) * p->k_w + kx) * p->in_c;
                            for (int32_t ic = 0; ic < p->in_c; ++ic) {
                                acc += (int32_t)w[ic] * ((int32_t)in[ic] + p->input_offset);
                            }
                        }
                    }
                    if (p->bias) {
                        acc += p->bias[oc];
                    }
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                        requant_one(p, acc, oc);
                }
            }
        }
    }
}

#if KT_FAST_KERNELS
#if defined(__GNUC__)
#define KT_CONV_INLINE inline __attribute__((always_inline))
#else
#define KT_CONV_INLINE inline
#endif

static void copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    /* Inline word/byte copy: the runs are short (in_c or k_w * in_c), a libc call would
     * dominate. The 4-byte memcpy compiles to one (unaligned-capable) LDR/STR pair. */
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        KT_MEMCPY(dst, src, 4);
    }
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* im2col of one output pixel: out-of-image taps get the input zero point, so together with the
 * folded bias (bias + input_offset * sum(w)) they contribute exactly zero, as in the reference. */
static void im2col_pixel(const kt_conv2d_params *p, const int8_t *image, int32_t oy, int32_t ox,
                         int8_t *col)
{
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int8_t pad_value = (int8_t)(-p->input_offset);
    const int32_t row_bytes = p->k_w * p->in_c;
    const int32_t contiguous = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
    /* A contiguous run is copied as whole words when the 3 bytes past it are still in the
     * image: what lands past the run is overwritten by the next row (every row writes all its
     * row_bytes) or falls into the column's slack, as in im2col_pixel_inside. */
    const int32_t image_bytes = p->in_h * p->in_w * p->in_c;
    const int32_t run_words = KT_ROUND4(row_bytes);
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + p->dil_h * ky;
        if (iy < 0 || iy >= p->in_h) {
            kt_fill_s8(col, pad_value, row_bytes);
        } else if (contiguous) {
            const int32_t at = (iy * p->in_w + ix0) * p->in_c;
            if (at + run_words <= image_bytes) {
                for (int32_t i = 0; i < row_bytes; i += 4) {
                    KT_MEMCPY(col + i, image + at + i, 4);
                }
            } else {
                copy_s8(col, image + at, row_bytes);
            }
        } else {
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + p->dil_w * kx;
                if (ix < 0 || ix >= p->in_w) {
                    kt_fill_s8(col + kx * p->in_c, pad_value, p->in_c);
                } else {
                    copy_s8(col + kx * p->in_c, image + (iy * p->in_w + ix) * p->in_c, p->in_c);
                }
            }
        }
        col += row_bytes;
    }
}

/* im2col of one output pixel from an image that needs no bounds checks (the input itself when
 * every tap is inside it, or the padded copy); `origin` is the pixel's first tap. With `words`
 * (dil_w == 1 and 3 readable bytes past every run) each row's run is copied as whole words:
 * the up to 3 bytes written past a run are overwritten by the next row's, the last row's land in
 * the column's slack (KT_CONV_COL_BYTES), and the taps past len meet zero weights or none. A
 * 1-channel 3x3 row is then one LDR/STR pair instead of a 3-byte loop. */
static KT_CONV_INLINE void im2col_pixel_inside(const kt_conv2d_params *p, const int8_t *origin,
                                               int32_t row_bytes, int32_t words, int8_t *col)
{
    const int32_t run = p->k_w * p->in_c;
    const int32_t row_step = p->dil_h * row_bytes;
    if (words) {
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
            for (int32_t i = 0; i < run; i += 4) {
                KT_MEMCPY(col + i, origin + i, 4);
            }
            origin += row_step;
            col += run;
        }
        return;
    }
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int8_t *src = origin + ky * row_step;
        if (p->dil_w == 1) {
            copy_s8(col, src, run);
        } else {
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                copy_s8(col + kx * p->in_c, src + kx * p->dil_w * p->in_c, p->in_c);
            }
        }
        col += run;
    }
}

/* The input surrounded by the input zero point: the taps of every output pixel fall inside it. */
static void pad_image(const kt_conv2d_params *p, const int8_t *image, int8_t *padded,
                      int32_t ph, int32_t pw)
{
    const int32_t c = p->in_c;
    kt_fill_s8(padded, (int8_t)(-p->input_offset), ph * pw * c);
    const int32_t y0 = kt_max_i32(0, -p->pad_h), y1 = kt_min_i32(p->in_h, ph - p->pad_h);
    const int32_t x0 = kt_max_i32(0, -p->pad_w), x1 = kt_min_i32(p->in_w, pw - p->pad_w);
    for (int32_t y = y0; y < y1; ++y) {
        copy_s8(padded + ((y + p->pad_h) * pw + x0 + p->pad_w) * c,
                image + (y * p->in_w + x0) * c, (x1 - x0) * c);
    }
}

/* Where the columns come from, per image. */
typedef struct {
    const int8_t *image; /* this batch's input (checked im2col) */
    const int8_t *src;   /* the input or its padded copy: every tap inside, no bounds checks */
    int32_t row_bytes;   /* bytes per row of src */
    int32_t mode;        /* COL_DIRECT, COL_INSIDE or COL_CHECKED */
    int32_t words;       /* COL_INSIDE: runs copied as whole words (im2col_pixel_inside) */
    int32_t step_x, step_y; /* bytes of src between horizontally / vertically next pixels */
} conv_src;

enum { COL_DIRECT, COL_INSIDE, COL_CHECKED };

/* Raster-order walk over the output pixels: (oy, ox) and the pixel's first tap in src, moved
 * by additions (no multiplies per pixel). */
typedef struct {
    int32_t oy, ox;
    const int8_t *origin, *row;
} conv_cursor;

/* The column of the cursor's output pixel. A 1x1 convolution whose taps never leave the input
 * reads the input pixel itself: it is already the column (no copy). */
static KT_CONV_INLINE const int8_t *pixel_column(const kt_conv2d_params *p, const conv_src *s,
                                                 const conv_cursor *at, int8_t *col)
{
    if (s->mode == COL_DIRECT) {
        return at->origin;
    }
    if (s->mode == COL_INSIDE) {
        im2col_pixel_inside(p, at->origin, s->row_bytes, s->words, col);
        return col;
    }
    /* Checked: a pixel whose taps are all inside the image (most of them) takes the unchecked
     * copy, with word runs where the last run has 3 more bytes inside the image. */
    const int32_t iy0 = at->oy * p->stride_h - p->pad_h;
    const int32_t ix0 = at->ox * p->stride_w - p->pad_w;
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + span_h < p->in_h && ix0 + span_w < p->in_w) {
        const int32_t at0 = (iy0 * p->in_w + ix0) * p->in_c;
        const int32_t end = at0 + span_h * s->row_bytes + KT_ROUND4(p->k_w * p->in_c);
        im2col_pixel_inside(p, s->image + at0, s->row_bytes,
                            p->dil_w == 1 && end <= p->in_h * s->row_bytes, col);
    } else {
        im2col_pixel(p, s->image, at->oy, at->ox, col);
    }
    return col;
}

#if KT_HAVE_DSP
/* im2col and widening of two pixels in one pass, straight from an image that needs no bounds
 * checks (origins oa, ob: the pixels' first taps) into the interleaved int16 column pair
 * kt_dot_requant2_s8 reads (per 4 taps: pixel a's two SXTB16 words, then pixel b's), for
 * int16 weights, no dilation along rows and runs of whole words (k_w * in_c % 4 == 0): the
 * int8 columns are then never read, and each input word is loaded once instead of being copied
 * and reloaded (digits conv #2: ~280 -> ~75 instructions per pixel). */
static void widen_pair_inside(const kt_conv2d_params *p, const int8_t *oa, const int8_t *ob,
                              int32_t row_bytes, uint32_t *col16)
{
    const int32_t run = p->k_w * p->in_c, row_step = p->dil_h * row_bytes;
    for (int32_t ky = 0; ky < p->k_h; ++ky, oa += row_step, ob += row_step) {
        for (int32_t i = 0; i < run; i += 4, col16 += 4) {
            const uint32_t xa = kt_load_u32(oa + i), xb = kt_load_u32(ob + i);
            col16[0] = kt_sxtb16(xa);
            col16[1] = kt_sxtb16_ror8(xa);
            col16[2] = kt_sxtb16(xb);
            col16[3] = kt_sxtb16_ror8(xb);
        }
    }
}
#endif

static KT_CONV_INLINE void next_pixel(const kt_conv2d_params *p, const conv_src *s,
                                      conv_cursor *at)
{
    if (++at->ox == p->out_w) {
        at->ox = 0;
        ++at->oy;
        at->row += s->step_y;
        at->origin = at->row;
    } else {
        at->origin += s->step_x;
    }
}
#endif

void kt_conv2d_s8(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                  void *scratch)
{
#if KT_FAST_KERNELS
    if (kt_conv2d_s8_small_c(p, input, output, scratch)) {
        return; /* 1-channel 3x3 layers: output-channel-major direct kernel */
    }
    if (kt_conv2d_s8_pointwise(p, input, output, scratch)) {
        return; /* 1x1 layers with 4 or 8 input channels on Armv7E-M: pixel-major kernel */
    }
    const int32_t len = p->k_h * p->k_w * p->in_c;
    const int32_t len_w = KT_ROUND4(len);
    uint32_t *col16 = (uint32_t *)scratch;
    int8_t *col_a = (int8_t *)scratch + KT_CONV_COL16_BYTES(len);
    int8_t *col_b = col_a + KT_CONV_COL_BYTES(len);
    int32_t acc[KT_CONV_BLOCK];
    /* Extent of the taps: rows/columns -pad .. -pad + ph - 1 of the input. */
    const int32_t ph = (p->out_h - 1) * p->stride_h + (p->k_h - 1) * p->dil_h + 1;
    const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    const int32_t inside = p->pad_h == 0 && p->pad_w == 0 && ph <= p->in_h && pw <= p->in_w;
    int8_t *padded = (int8_t *)scratch + KT_CONV_PADDED_OFFSET(len);
    /* With int16 weights the rows are zero-padded to whole words (no tail in the dot product);
     * the padding taps of the columns are zeroed once (only word-run im2col writes them, and
     * they meet zero weights). */
    const int32_t dot_len = p->weights_s16 ? len_w : len;
    kt_fill_s8(col_a + len, 0, len_w - len);
    kt_fill_s8(col_b + len, 0, len_w - len);
    const kt_dot_job job = {p->weights, p->folded_bias, p->rq_fast, p->out_c, dot_len,
                            p->act_min, p->act_max, p->weights_s16};
    conv_src s = {input, input, p->in_w * p->in_c, COL_CHECKED, 0, 0, 0};
    const int32_t use_padded = !inside && p->padded_copy;
    const int32_t run = p->k_w * p->in_c;
    if (inside) {
        /* A direct column must hold dot_len readable bytes: not with padded int16 rows. */
        s.mode = p->k_h == 1 && p->k_w == 1 && dot_len == len ? COL_DIRECT : COL_INSIDE;
        /* Word runs only where the last pixel's last run has 3 more bytes inside the input. */
        const int32_t last = (ph - 1) * s.row_bytes + (pw - p->k_w) * p->in_c + KT_ROUND4(run);
        s.words = p->dil_w == 1 && last <= p->in_h * s.row_bytes;
    } else if (use_padded) {
        s.mode = COL_INSIDE;
        s.src = padded;
        s.row_bytes = pw * p->in_c;
        s.words = p->dil_w == 1; /* the padded copy has 4 bytes of slack */
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * p->in_c;
        s.image = image;
        if (use_padded) {
            pad_image(p, image, padded, ph, pw);
        } else {
            s.src = image;
        }
        s.step_x = p->stride_w * p->in_c;
        s.step_y = p->stride_h * s.row_bytes;
        conv_cursor at = {0, 0, s.src, s.src};
        int32_t left = p->out_h * p->out_w;
#if KT_HAVE_DSP
        if (p->rq_fast && s.mode == COL_INSIDE && p->weights_s16 && p->dil_w == 1 &&
            run % 4 == 0) {
            for (; left >= 2; left -= 2) {
                const int8_t *origin_a = at.origin;
                next_pixel(p, &s, &at);
                widen_pair_inside(p, origin_a, at.origin, s.row_bytes, col16);
                next_pixel(p, &s, &at);
                kt_dot_requant2_s8(&job, col_a, col_b, col16, output, output + p->out_c);
                output += 2 * p->out_c;
            }
        }
#endif
        if (p->rq_fast) {
            /* Two pixels per pass, in raster order (a pair may span two output rows). */
            for (; left >= 2; left -= 2) {
                const int8_t *ca = pixel_column(p, &s, &at, col_a);
                next_pixel(p, &s, &at);
                const int8_t *cb = pixel_column(p, &s, &at, col_b);
                next_pixel(p, &s, &at);
                kt_widen_cols2_s8(ca, cb, dot_len, col16);
                kt_dot_requant2_s8(&job, ca, cb, col16, output, output + p->out_c);
                output += 2 * p->out_c;
            }
        }
        for (; left > 0; --left) {
            const int8_t *col = pixel_column(p, &s, &at, col_a);
            next_pixel(p, &s, &at);
            kt_widen_col_s8(col, dot_len, col16);
            if (p->rq_fast) {
                kt_dot_requant_s8(&job, col, col16, output);
                output += p->out_c;
                continue;
            }
            for (int32_t oc0 = 0; oc0 < p->out_c; oc0 += KT_CONV_BLOCK) {
                const int32_t n = kt_min_i32(KT_CONV_BLOCK, p->out_c - oc0);
                kt_dot_rows_s8(col, col16,
                               p->weights + oc0 * dot_len * KT_PACKED_WEIGHT_BYTES(p->weights_s16),
                               n, dot_len, p->weights_s16, p->folded_bias + oc0, acc);
                kt_requant_block_s8(acc, n, p->rq.multiplier + oc0, p->rq.shift + oc0,
                                    p->output_offset, p->act_min, p->act_max, output);
                output += n;
            }
        }
    }
#else
    (void)scratch;
    kt_conv2d_s8_ref(p, input, output);
#endif
}
