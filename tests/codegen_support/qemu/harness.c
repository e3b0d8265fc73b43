/* Runs the generated model on every input in harness_inputs.h and prints, per input, the output
 * bytes and the SysTick ticks of one kt_model_invoke, plus a calibration line (ticks for a loop
 * of known instruction count), via semihosting. */
#include <stdint.h>

#include "harness_inputs.h"
#include "model.h"

void kt_h_puts(const char *s);
extern volatile uint32_t kt_h_systick_wraps;

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

#if defined(KT_H_PER_OP)
#include "op_timing.h"
uint32_t kt_h_op_ticks[KT_H_MAX_OPS];
uint64_t kt_h_op_start;
#endif

uint64_t kt_h_now(void);
#define now kt_h_now

uint64_t kt_h_now(void)
{
    uint32_t wraps, value;
    do {
        wraps = kt_h_systick_wraps;
        value = SYST_CVR;
    } while (wraps != kt_h_systick_wraps);
    return (uint64_t)wraps * 0x1000000u + (0xFFFFFFu - value);
}

static void put_u32(char *buf, uint32_t v)
{
    char tmp[11];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        *buf++ = tmp[--n];
    }
    *buf = 0;
}

static void print_u32(const char *label, uint32_t v)
{
    char buf[16];
    kt_h_puts(label);
    put_u32(buf, v);
    kt_h_puts(buf);
    kt_h_puts("\n");
}

static int8_t output[KT_MODEL_OUTPUT_BYTES];

int main(void)
{
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt on wrap, enable */
    while (SYST_CVR == 0) {
        /* wait for the first reload so that now() is monotonic from here on */
    }

    /* Calibration: 2 instructions (SUBS, BNE) per iteration. */
    uint32_t n = KT_H_CAL_ITERS;
    uint64_t t0 = now();
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    print_u32("CAL ", (uint32_t)(now() - t0));

    static const char hex[] = "0123456789abcdef";
    char line[2 * KT_MODEL_OUTPUT_BYTES + 1];
    for (uint32_t i = 0; i < KT_H_N_INPUTS; ++i) {
        t0 = now();
        int rc = kt_model_invoke(kt_h_inputs[i], output);
        uint32_t ticks = (uint32_t)(now() - t0);
        if (rc != 0) {
            return 2;
        }
        for (uint32_t k = 0; k < KT_MODEL_OUTPUT_BYTES; ++k) {
            line[2 * k] = hex[((uint8_t)output[k]) >> 4];
            line[2 * k + 1] = hex[((uint8_t)output[k]) & 15];
        }
        line[2 * KT_MODEL_OUTPUT_BYTES] = 0;
        kt_h_puts("OUT ");
        kt_h_puts(line);
        kt_h_puts("\n");
        print_u32("TICKS ", ticks);
#if defined(KT_H_PER_OP)
        if (i == 0) { /* per-op ticks of the first inference: "OP <index> <ticks>" */
            for (uint32_t k = 0; k < KT_H_MAX_OPS; ++k) {
                if (kt_h_op_ticks[k]) {
                    char num[16];
                    kt_h_puts("OP ");
                    put_u32(num, k);
                    kt_h_puts(num);
                    print_u32(" ", kt_h_op_ticks[k]);
                }
            }
        }
#endif
    }
    return 0;
}
