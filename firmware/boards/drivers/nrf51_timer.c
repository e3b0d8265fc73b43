/* Timing from the nRF51's TIMER0, for a core without SysTick.
 *
 * SysTick is optional on Armv6-M and the nRF51's Cortex-M0 has none (QEMU's microbit machine
 * still provides one; the real part does not, so it is not used). TIMER0 runs in 32-bit timer
 * mode from HFCLK with prescaler 0: 16 MHz, one tick per core clock cycle, a resolution of
 * 62.5 ns. Under QEMU's -icount shift=6 an instruction takes 64 ns, so a tick is still finer
 * than an instruction and counts invert exactly (PROTOCOL.md, Timing).
 *
 * - kt_port_ticks(): the counter is read through CAPTURE[3] and extended to 64 bits in
 *   software (a wrap every 2^32 ticks, 268 s; the periodic interrupt below reads it often).
 * - A periodic interrupt (COMPARE[1], every HEARTBEAT ticks, ~33 ms) bounds how long a timed
 *   UART wait sleeps past its deadline, as SysTick's wrap does on the other boards.
 * - A measured section clears the counter at its start (TASKS_CLEAR), so every inference
 *   starts at the same phase of the tick clock, and keeps the timer's interrupt and its
 *   compare events out of the section: sections last at most 268 s. */
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

#define TIMER0_BASE 0x40008000u
#define TIMER0_IRQ 8u
#define TIMER_TASKS_START KT_REG32(TIMER0_BASE + 0x000u)
#define TIMER_TASKS_STOP KT_REG32(TIMER0_BASE + 0x004u)
#define TIMER_TASKS_CLEAR KT_REG32(TIMER0_BASE + 0x00Cu)
#define TIMER_TASKS_CAPTURE(n) KT_REG32(TIMER0_BASE + 0x040u + 4u * (n))
#define TIMER_EVENTS_COMPARE(n) KT_REG32(TIMER0_BASE + 0x140u + 4u * (n))
#define TIMER_INTENSET KT_REG32(TIMER0_BASE + 0x304u)
#define TIMER_MODE KT_REG32(TIMER0_BASE + 0x504u)
#define TIMER_BITMODE KT_REG32(TIMER0_BASE + 0x508u)
#define TIMER_PRESCALER KT_REG32(TIMER0_BASE + 0x510u)
#define TIMER_CC(n) KT_REG32(TIMER0_BASE + 0x540u + 4u * (n))

#define HEARTBEAT_CC 1u
#define CAPTURE_CC 3u
#define HEARTBEAT (1u << 19)
#define BITMODE_32 3u

#if KT_BOARD_CPU_HZ != 16000000
#error "nrf51_timer.c: TIMER0 at prescaler 0 counts HFCLK, 16 MHz: cpu_frequency_hz must be 16000000"
#endif

static uint64_t high; /* ticks at the counter's last zero */
static uint32_t last; /* the counter at the last read, to notice a wrap */

static uint32_t counter(void)
{
    TIMER_TASKS_CAPTURE(CAPTURE_CC) = 1;
    return TIMER_CC(CAPTURE_CC);
}

void kt_timer_init(void)
{
    TIMER_TASKS_STOP = 1;
    TIMER_MODE = 0; /* timer, not counter */
    TIMER_BITMODE = BITMODE_32;
    TIMER_PRESCALER = 0;
    TIMER_TASKS_CLEAR = 1;
    TIMER_CC(HEARTBEAT_CC) = HEARTBEAT;
    TIMER_INTENSET = 1u << (16u + HEARTBEAT_CC);
    NVIC_ISER(TIMER0_IRQ) = NVIC_BIT(TIMER0_IRQ);
    TIMER_TASKS_START = 1;
}

uint64_t kt_port_ticks(void)
{
    uint32_t primask = kt_irq_save(); /* the heartbeat reads it too */
    uint32_t now = counter();
    if (now < last) {
        high += 1ull << 32;
    }
    last = now;
    uint64_t ticks = high + now;
    kt_irq_restore(primask);
    return ticks;
}

uint32_t kt_port_ticks32(void)
{
    return (uint32_t)kt_port_ticks();
}

int kt_driver_irq(uint32_t irq)
{
    if (irq != TIMER0_IRQ) {
        return 0;
    }
    TIMER_EVENTS_COMPARE(HEARTBEAT_CC) = 0;
    (void)TIMER_EVENTS_COMPARE(HEARTBEAT_CC); /* the write has landed before we return */
    (void)kt_port_ticks();
    TIMER_CC(HEARTBEAT_CC) = last + HEARTBEAT;
    return 1;
}

uint64_t kt_port_timing_start(void)
{
    uint64_t now = kt_port_ticks();
    /* No UART or timer interrupt inside the section: they would add instructions to it. */
    NVIC_ICER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
    NVIC_ICER(TIMER0_IRQ) = NVIC_BIT(TIMER0_IRQ);
    kt_irq_disable();
    /* No compare event inside the section either (QEMU resynchronises the counter at each
     * one): the heartbeat moves out of reach until the section ends. */
    TIMER_CC(HEARTBEAT_CC) = 0xFFFFFFFFu;
    TIMER_TASKS_CLEAR = 1; /* restart: the section starts on a tick edge */
    high = now;
    last = 0;
    kt_irq_enable();
    return now;
}

uint64_t kt_port_timing_stop(void)
{
    uint64_t now = kt_port_ticks();
    TIMER_CC(HEARTBEAT_CC) = last + HEARTBEAT;
    NVIC_ISER(TIMER0_IRQ) = NVIC_BIT(TIMER0_IRQ);
    NVIC_ISER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
    return now;
}

uint32_t kt_port_tick_hz(void)
{
    return KT_BOARD_CPU_HZ;
}
