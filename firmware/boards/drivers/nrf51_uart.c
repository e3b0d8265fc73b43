/* nRF51 UART (nRF51 Series Reference Manual v3.0, chapter 29): tasks and events, a 6-byte
 * receive FIFO read one byte at a time through RXD.
 *
 * RXDRDY is an event that stays set until software clears it, and its interrupt is a level:
 * the handler masks it at the UART (INTENCLR) and the reader re-arms it before sleeping
 * (common/uart_wait.c). The event is cleared before RXD is read, as the manual asks, so a
 * byte that arrives meanwhile sets it again. Transmission: write TXD, wait for TXDRDY. */
#include <stddef.h>
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

#define UART_TASKS_STARTRX KT_REG32(KT_BOARD_UART_BASE + 0x000u)
#define UART_TASKS_STARTTX KT_REG32(KT_BOARD_UART_BASE + 0x008u)
#define UART_EVENTS_RXDRDY KT_REG32(KT_BOARD_UART_BASE + 0x108u)
#define UART_EVENTS_TXDRDY KT_REG32(KT_BOARD_UART_BASE + 0x11Cu)
#define UART_INTENSET KT_REG32(KT_BOARD_UART_BASE + 0x304u)
#define UART_INTENCLR KT_REG32(KT_BOARD_UART_BASE + 0x308u)
#define UART_ENABLE KT_REG32(KT_BOARD_UART_BASE + 0x500u)
#define UART_PSELTXD KT_REG32(KT_BOARD_UART_BASE + 0x50Cu)
#define UART_PSELRXD KT_REG32(KT_BOARD_UART_BASE + 0x514u)
#define UART_RXD KT_REG32(KT_BOARD_UART_BASE + 0x518u)
#define UART_TXD KT_REG32(KT_BOARD_UART_BASE + 0x51Cu)
#define UART_BAUDRATE KT_REG32(KT_BOARD_UART_BASE + 0x524u)

#define INT_RXDRDY (1u << 2)
#define ENABLE_UART 4u

/* BAUDRATE register values of the reference manual (not a linear function of the rate). */
#if KT_BOARD_UART_BAUD == 115200
#define BAUDRATE_VALUE 0x01D7E000u
#elif KT_BOARD_UART_BAUD == 9600
#define BAUDRATE_VALUE 0x00275000u
#else
#error "nrf51_uart.c: add the BAUDRATE register value for this uart_baudrate"
#endif

/* The board's pins (its folder), e.g. the micro:bit's interface-chip UART. */
extern const uint32_t kt_board_uart_tx_pin, kt_board_uart_rx_pin;

void kt_uart_init(void)
{
    UART_PSELTXD = kt_board_uart_tx_pin;
    UART_PSELRXD = kt_board_uart_rx_pin;
    UART_BAUDRATE = BAUDRATE_VALUE;
    UART_ENABLE = ENABLE_UART;
    UART_EVENTS_RXDRDY = 0;
    UART_EVENTS_TXDRDY = 0;
    UART_TASKS_STARTTX = 1;
    UART_TASKS_STARTRX = 1;
    UART_INTENSET = INT_RXDRDY;
    NVIC_ISER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
}

void kt_uart_irq(void)
{
    UART_INTENCLR = INT_RXDRDY;
}

int kt_uart_rx_ready(void)
{
    return UART_EVENTS_RXDRDY != 0;
}

uint8_t kt_uart_rx_take(void)
{
    UART_EVENTS_RXDRDY = 0;
    return (uint8_t)(UART_RXD & 0xFFu);
}

void kt_uart_rx_arm(void)
{
    UART_INTENSET = INT_RXDRDY;
}

void kt_port_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        UART_EVENTS_TXDRDY = 0;
        UART_TXD = data[i];
        while (UART_EVENTS_TXDRDY == 0) {
        }
    }
}
