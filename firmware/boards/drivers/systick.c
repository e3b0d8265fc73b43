/* Timing from SysTick: a 64-bit tick counter, and measured sections that start in phase.
 *
 * The 24-bit counter counts down from SYSTICK_PERIOD - 1 to 0; reaching 0 pends the wrap
 * interrupt, which adds one period to `epoch`. The counter stays at 0 for one tick before it
 * reloads, so the ticks elapsed since `epoch` are (SYSTICK_PERIOD - value) % SYSTICK_PERIOD.
 *
 * The period is short (2^20 ticks, ~42 ms at 25 MHz; 2^22, ~25 ms, on cores above 50 MHz)
 * because its interrupt also bounds how long a timed UART wait sleeps past its deadline
 * (common/uart_wait.c).
 *
 * SysTick is optional on Armv6-M: a part without it (the nRF51) uses its own timer driver.
 *
 * Why a measured section restarts the counter: under QEMU's -icount every instruction takes
 * the same virtual time, so the ticks an inference takes depend only on its instructions and
 * on the phase of the tick clock at the start. That phase depends on how long the firmware
 * waited for the host (real time), so it differs from run to run and moved counts by one
 * tick. Restarting SysTick (a write to SYST_CVR) at the start makes the phase the same for
 * every inference: counts are then identical run to run, bit for bit (PROTOCOL.md, Timing). */
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

#if KT_BOARD_CPU_HZ > 50000000u
#define SYSTICK_PERIOD (1u << 22)
#else
#define SYSTICK_PERIOD (1u << 20)
#endif

static volatile uint64_t epoch;

void SysTick_Handler(void)
{
    epoch += SYSTICK_PERIOD;
}

void kt_timer_init(void)
{
    SYST_RVR = SYSTICK_PERIOD - 1u;
    SYST_CVR = 0;
    /* Processor clock, interrupt on wrap, enabled. */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint64_t kt_port_ticks(void)
{
    uint64_t base;
    uint32_t value;
    /* If the counter wraps between the two reads the interrupt changes epoch: read again. */
    do {
        base = epoch;
        value = SYST_CVR;
    } while (base != epoch);
    return base + (SYSTICK_PERIOD - value) % SYSTICK_PERIOD;
}

uint32_t kt_port_ticks32(void)
{
    /* epoch's low word is enough (the period divides 2^32), read as a word on its own;
     * the period is a power of two, so the modulo is a mask */
    const volatile uint32_t *epoch_lo = (const volatile uint32_t *)(const volatile void *)&epoch;
    uint32_t base, value;
    do {
        base = *epoch_lo; /* little-endian: the low word first */
        value = SYST_CVR;
    } while (base != *epoch_lo);
    return base + ((SYSTICK_PERIOD - value) & (SYSTICK_PERIOD - 1u));
}

uint64_t kt_port_timing_start(void)
{
    uint64_t now = kt_port_ticks();
    /* No UART interrupt inside the section: a stray byte must not add instructions to it. */
    NVIC_ICER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
    kt_irq_disable();
    SYST_CVR = 0; /* restart: the section starts on a tick edge */
    SCB_ICSR = SCB_ICSR_PENDSTCLR; /* a wrap pended just before the restart is void */
    epoch = now;
    kt_irq_enable();
    return now;
}

uint64_t kt_port_timing_stop(void)
{
    uint64_t now = kt_port_ticks();
    NVIC_ISER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
    return now;
}

uint32_t kt_port_tick_hz(void)
{
    return KT_BOARD_CPU_HZ;
}
