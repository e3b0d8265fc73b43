/* ARM CMSDK APB UART (UART0 of the MPS2 boards): the RX side holds one byte.
 *
 * Waiting for a byte sleeps in WFI until the UART's RX interrupt (or the SysTick wrap, which
 * bounds timed waits) wakes the core. Besides sparing the host's CPU, sleeping matters under
 * QEMU's -icount: virtual time advances by executed instructions while the core runs, but
 * with the real-time clock while it sleeps. A busy-polling wait made the firmware's
 * millisecond timeouts pass in a few real milliseconds (or far more, depending on the
 * -icount shift), so a host descheduled briefly on a loaded machine tripped them. Asleep,
 * a timeout of N ms lasts about N ms of real time. */
#include <stddef.h>
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

#define UART_DATA KT_REG32(KT_BOARD_UART_BASE + 0x00u)
#define UART_STATE KT_REG32(KT_BOARD_UART_BASE + 0x04u)
#define UART_CTRL KT_REG32(KT_BOARD_UART_BASE + 0x08u)
#define UART_INTCLEAR KT_REG32(KT_BOARD_UART_BASE + 0x0Cu)
#define UART_BAUDDIV KT_REG32(KT_BOARD_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define CTRL_RX_INT_EN (1u << 3)
#define INT_RX (1u << 1)

void kt_uart_init(void)
{
    uint32_t div = KT_BOARD_CPU_HZ / KT_BOARD_UART_BAUD;
    /* The CMSDK UART requires a divider of at least 16. */
    UART_BAUDDIV = div < 16u ? 16u : div;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    NVIC_ISER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
}

/* The RX interrupt only ends a WFI: the byte stays in the data register for the reader. */
void kt_uart_irq(void)
{
    UART_INTCLEAR = INT_RX;
}

void kt_port_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & STATE_TX_FULL) {
        }
        UART_DATA = data[i];
    }
}

/* Sleep until an interrupt is pending. With interrupts masked, a byte that arrives between
 * the check and the WFI still ends the WFI (a pending interrupt wakes the core even while
 * PRIMASK masks it); the handler runs once they are unmasked. */
static void sleep_until_rx_or_tick(void)
{
    kt_irq_disable();
    if (!(UART_STATE & STATE_RX_FULL)) {
        __asm__ volatile("wfi" ::: "memory");
    }
    kt_irq_enable();
}

int kt_port_read_byte(uint32_t timeout_ms)
{
    if (timeout_ms == KT_WAIT_FOREVER) {
        while (!(UART_STATE & STATE_RX_FULL)) {
            sleep_until_rx_or_tick();
        }
        return (int)(UART_DATA & 0xFFu);
    }
    uint64_t limit = (uint64_t)timeout_ms * (kt_port_tick_hz() / 1000u);
    uint64_t start = kt_port_ticks();
    while (!(UART_STATE & STATE_RX_FULL)) {
        if (kt_port_ticks() - start >= limit) {
            return -1;
        }
        sleep_until_rx_or_tick();
    }
    return (int)(UART_DATA & 0xFFu);
}
