/* ARM CMSDK APB UART (UART0 of the MPS2 FPGA images): the RX side holds one byte, no FIFO.
 * Its RX interrupt is an event (cleared through INTCLEAR), not a level: the handler clears
 * it and the byte stays in the data register for the reader (common/uart_wait.c). */
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
    /* The UART is clocked by the core clock (PCLK = SYSCLK on these images). */
    uint32_t div = KT_BOARD_CPU_HZ / KT_BOARD_UART_BAUD;
    /* The CMSDK UART requires a divider of at least 16. */
    UART_BAUDDIV = div < 16u ? 16u : div;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    NVIC_ISER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
}

void kt_uart_irq(void)
{
    UART_INTCLEAR = INT_RX;
}

int kt_uart_rx_ready(void)
{
    return (UART_STATE & STATE_RX_FULL) != 0;
}

uint8_t kt_uart_rx_take(void)
{
    return (uint8_t)(UART_DATA & 0xFFu);
}

void kt_uart_rx_arm(void)
{
    /* The RX interrupt stays enabled: a new byte always raises it. */
}

void kt_port_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & STATE_TX_FULL) {
        }
        UART_DATA = data[i];
    }
}
