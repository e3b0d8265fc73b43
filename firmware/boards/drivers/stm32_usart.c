/* STM32 USART (the F1 and F4 families share this register layout: SR, DR, BRR, CR1 at
 * 0x00/0x04/0x08/0x0C; RM0041 §23.6, RM0090 §30.6). One byte of receive buffer (RXNE).
 *
 * The RX interrupt is a level (RXNE & RXNEIE) that stays up until DR is read, so the handler
 * masks it in the NVIC and the reader unmasks it before sleeping (common/uart_wait.c). Masking
 * at the USART (clearing RXNEIE) would do on the real part, but QEMU 7.2's model lowers the
 * line only when DR is read, and the handler would be entered forever.
 *
 * The USART's kernel clock is its APB bus clock, which the board's clock setup chooses and
 * reports through kt_board_uart_clock_hz(). */
#include <stddef.h>
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

#define USART_SR KT_REG32(KT_BOARD_UART_BASE + 0x00u)
#define USART_DR KT_REG32(KT_BOARD_UART_BASE + 0x04u)
#define USART_BRR KT_REG32(KT_BOARD_UART_BASE + 0x08u)
#define USART_CR1 KT_REG32(KT_BOARD_UART_BASE + 0x0Cu)

#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define CR1_UE (1u << 13)

uint32_t kt_board_uart_clock_hz(void);

void kt_uart_init(void)
{
    /* 16x oversampling: BRR = f_ck / baud, rounded (mantissa and fraction in one number). */
    uint32_t clock = kt_board_uart_clock_hz();
    USART_BRR = (clock + KT_BOARD_UART_BAUD / 2u) / KT_BOARD_UART_BAUD;
    USART_CR1 = CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE;
    NVIC_ISER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
}

void kt_uart_irq(void)
{
    NVIC_ICER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
}

int kt_uart_rx_ready(void)
{
    return (USART_SR & SR_RXNE) != 0;
}

uint8_t kt_uart_rx_take(void)
{
    return (uint8_t)(USART_DR & 0xFFu); /* reading DR clears RXNE */
}

void kt_uart_rx_arm(void)
{
    NVIC_ISER(KT_BOARD_UART_RX_IRQ) = NVIC_BIT(KT_BOARD_UART_RX_IRQ);
}

void kt_port_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!(USART_SR & SR_TXE)) {
        }
        USART_DR = data[i];
    }
}
