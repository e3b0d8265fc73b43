/* 64-bit tick counter from the 24-bit SysTick: the IRQ adds 2^24 on every wrap.
 * Under QEMU with -icount shift=0 the core clock is virtual, so counts are reproducible. */
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

#define SYSTICK_RELOAD 0x00FFFFFFu

static volatile uint64_t wraps_ticks;

void SysTick_Handler(void)
{
    wraps_ticks += (uint64_t)SYSTICK_RELOAD + 1u;
}

void kt_systick_init(void)
{
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0;
    /* Processor clock, interrupt on wrap, enabled. */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint64_t kt_port_ticks(void)
{
    uint64_t base;
    uint32_t value;
    /* If the counter wraps between the two reads the IRQ runs and changes wraps_ticks:
     * read again. SysTick counts down. */
    do {
        base = wraps_ticks;
        value = SYST_CVR;
    } while (base != wraps_ticks);
    return base + (SYSTICK_RELOAD - value);
}

uint32_t kt_port_tick_hz(void)
{
    return KT_BOARD_CPU_HZ;
}
