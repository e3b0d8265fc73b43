/* Receiving from the host UART, shared by every UART driver: wait for a byte, with a timeout.
 *
 * Waiting sleeps in WFI until the UART's RX interrupt (or the timebase's periodic interrupt,
 * which bounds timed waits) wakes the core. Besides sparing the host's CPU, sleeping matters
 * under QEMU's -icount: virtual time advances by executed instructions while the core runs,
 * but with the real-time clock while it sleeps. A busy-polling wait made the firmware's
 * millisecond timeouts pass in a few real milliseconds (or far more, depending on the
 * -icount shift), so a host descheduled briefly on a loaded machine tripped them. Asleep, a
 * timeout of N ms lasts about N ms of real time.
 *
 * A driver provides kt_uart_rx_ready / kt_uart_rx_take / kt_uart_rx_arm / kt_uart_irq
 * (cortex_m.h); its interrupt only ends a WFI and leaves the byte for this loop. */
#include <stdint.h>

#include "cortex_m.h"
#include "kt_port.h"

/* Sleep until an interrupt is pending. With interrupts masked, a byte that arrives between
 * the check and the WFI still ends the WFI (a pending interrupt wakes the core even while
 * PRIMASK masks it); the handler runs once they are unmasked. */
static void sleep_until_rx_or_tick(void)
{
    kt_irq_disable();
    kt_uart_rx_arm();
    if (!kt_uart_rx_ready()) {
        __asm__ volatile("wfi" ::: "memory");
    }
    kt_irq_enable();
}

int kt_port_read_byte(uint32_t timeout_ms)
{
    if (timeout_ms == KT_WAIT_FOREVER) {
        while (!kt_uart_rx_ready()) {
            sleep_until_rx_or_tick();
        }
        return kt_uart_rx_take();
    }
    uint64_t limit = (uint64_t)timeout_ms * (kt_port_tick_hz() / 1000u);
    uint64_t start = kt_port_ticks();
    while (!kt_uart_rx_ready()) {
        if (kt_port_ticks() - start >= limit) {
            return -1;
        }
        sleep_until_rx_or_tick();
    }
    return kt_uart_rx_take();
}
