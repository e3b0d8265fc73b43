/* Netduino Plus 2 (STM32F405RG) clock tree: 168 MHz from the internal 16 MHz HSI through the
 * main PLL (RM0090 §6), APB2 at 84 MHz for USART1, USART1 on PA9/PA10 (AF7).
 *
 * HSI / PLLM 8 = 2 MHz VCO input, x PLLN 168 = 336 MHz, / PLLP 2 = 168 MHz SYSCLK (and / PLLQ 7
 * = 48 MHz for USB). Flash needs 5 wait states at 168 MHz and 2.7-3.6 V; the regulator's reset
 * scale (VOS = 1) allows 168 MHz. HSI keeps the setup independent of the board's crystal.
 *
 * QEMU models no RCC (its registers read as zero) and runs the core at a fixed 168 MHz, so
 * every wait for a ready flag is bounded: on the real part the PLL locks within ~100 us, long
 * before the bound; in QEMU the waits end at the bound and the clock is already 168 MHz. */
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"

#define RCC_BASE 0x40023800u
#define RCC_CR KT_REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR KT_REG32(RCC_BASE + 0x04u)
#define RCC_CFGR KT_REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR KT_REG32(RCC_BASE + 0x30u)
#define RCC_APB2ENR KT_REG32(RCC_BASE + 0x44u)
#define FLASH_ACR KT_REG32(0x40023C00u)
#define GPIOA_MODER KT_REG32(0x40020000u)
#define GPIOA_AFRH KT_REG32(0x40020024u)

#define CR_HSIRDY (1u << 1)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
#define CFGR_SW_PLL 2u
#define CFGR_SWS_MASK (3u << 2)
#define CFGR_SWS_PLL (2u << 2)
#define CFGR_PPRE1_DIV4 (5u << 10)
#define CFGR_PPRE2_DIV2 (4u << 13)
#define ACR_LATENCY_5WS 5u
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN (1u << 9)
#define ACR_DCEN (1u << 10)

#define PLL_M 8u
#define PLL_N 168u
#define PLL_P_DIV2 0u
#define PLL_Q 7u
#define SYSCLK_HZ 168000000u
#define APB2_HZ (SYSCLK_HZ / 2u)
#define READY_WAIT 100000u /* loop iterations: ~2 ms at 16 MHz, QEMU ends here */

#if KT_BOARD_CPU_HZ != SYSCLK_HZ
#error "netduinoplus2/clock.c sets up 168 MHz: platforms.yml cpu_frequency_hz must say so"
#endif

static void wait_for(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    for (uint32_t i = 0; i < READY_WAIT && (*reg & mask) != value; i++) {
    }
}

void kt_board_clock_init(void)
{
    wait_for(&RCC_CR, CR_HSIRDY, CR_HSIRDY); /* on after reset */
    FLASH_ACR = ACR_LATENCY_5WS | ACR_PRFTEN | ACR_ICEN | ACR_DCEN;
    RCC_PLLCFGR = PLL_M | (PLL_N << 6) | (PLL_P_DIV2 << 16) | (PLL_Q << 24); /* source HSI */
    RCC_CR |= CR_PLLON;
    wait_for(&RCC_CR, CR_PLLRDY, CR_PLLRDY);
    RCC_CFGR = CFGR_PPRE1_DIV4 | CFGR_PPRE2_DIV2 | CFGR_SW_PLL; /* AHB /1, APB1 42, APB2 84 MHz */
    wait_for(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL);

    RCC_AHB1ENR |= 1u << 0; /* GPIOA */
    RCC_APB2ENR |= 1u << 4; /* USART1 */
    /* PA9 (TX) and PA10 (RX): alternate function 7 (USART1). */
    GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 18)) | (0xAu << 18);
    GPIOA_AFRH = (GPIOA_AFRH & ~(0xFFu << 4)) | (0x77u << 4);
}

uint32_t kt_board_uart_clock_hz(void)
{
    return APB2_HZ;
}
