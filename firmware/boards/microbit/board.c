/* BBC micro:bit v1 (nRF51822): 16 MHz from the external crystal, and the UART pins.
 *
 * HFCLK starts on the internal 16 MHz RC oscillator; the core clock is 16 MHz either way, but
 * the crystal is accurate enough for a UART (the RC is +-5 %), so start it and wait for it
 * (nRF51 Reference Manual, CLOCK). QEMU's CLOCK stub reads every register as 1, so the wait
 * ends at once there; the bound only guards against a board without a crystal.
 * The UART goes to the interface chip's USB serial port: TX on P0.24, RX on P0.25. */
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"

#define CLOCK_TASKS_HFCLKSTART KT_REG32(0x40000000u)
#define CLOCK_EVENTS_HFCLKSTARTED KT_REG32(0x40000100u)
#define READY_WAIT 100000u

#if KT_BOARD_CPU_HZ != 16000000
#error "the nRF51's core clock is 16 MHz: platforms.yml cpu_frequency_hz must say so"
#endif

const uint32_t kt_board_uart_tx_pin = 24u;
const uint32_t kt_board_uart_rx_pin = 25u;

void kt_board_clock_init(void)
{
    CLOCK_EVENTS_HFCLKSTARTED = 0;
    CLOCK_TASKS_HFCLKSTART = 1;
    for (uint32_t i = 0; i < READY_WAIT && CLOCK_EVENTS_HFCLKSTARTED == 0; i++) {
    }
}
