/* ARM CMSDK APB UART (UART0 of the MPS2 boards): polled, the RX side holds one byte. */
#include <stddef.h>
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

#define UART_DATA KT_REG32(KT_BOARD_UART_BASE + 0x00u)
#define UART_STATE KT_REG32(KT_BOARD_UART_BASE + 0x04u)
#define UART_CTRL KT_REG32(KT_BOARD_UART_BASE + 0x08u)
#define UART_BAUDDIV KT_REG32(KT_BOARD_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)

void kt_uart_init(void)
{
    uint32_t div = KT_BOARD_CPU_HZ / KT_BOARD_UART_BAUD;
    /* The CMSDK UART requires a divider of at least 16. */
    UART_BAUDDIV = div < 16u ? 16u : div;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

void kt_port_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & STATE_TX_FULL) {
        }
        UART_DATA = data[i];
    }
}

int kt_port_read_byte(uint32_t timeout_ms)
{
    if (timeout_ms == KT_WAIT_FOREVER) {
        while (!(UART_STATE & STATE_RX_FULL)) {
        }
        return (int)(UART_DATA & 0xFFu);
    }
    uint64_t limit = (uint64_t)timeout_ms * (kt_port_tick_hz() / 1000u);
    uint64_t start = kt_port_ticks();
    while (!(UART_STATE & STATE_RX_FULL)) {
        if (kt_port_ticks() - start >= limit) {
            return -1;
        }
    }
    return (int)(UART_DATA & 0xFFu);
}
