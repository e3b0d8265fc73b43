/* STM32VLDISCOVERY (STM32F100RB) clock tree: 24 MHz, the value line's maximum, from the
 * internal 8 MHz HSI: HSI / 2 x PLLMUL 6 (RM0041 §7). AHB, APB1 and APB2 undivided, so USART1
 * (APB2) runs at 24 MHz. The value line needs no flash wait states at 24 MHz. USART1 on PA9
 * (TX, alternate function push-pull) and PA10 (RX, floating input: its reset state).
 *
 * QEMU models no RCC (its registers read as zero) and runs the core at a fixed 24 MHz, so
 * every wait for a ready flag is bounded: on the real part the PLL locks within ~200 us, long
 * before the bound; in QEMU the waits end at the bound and the clock is already 24 MHz. */
#include <stdint.h>

#include "cortex_m.h"
#include "kt_board.h"

#define RCC_BASE 0x40021000u
#define RCC_CR KT_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR KT_REG32(RCC_BASE + 0x04u)
#define RCC_APB2ENR KT_REG32(RCC_BASE + 0x18u)
#define GPIOA_CRH KT_REG32(0x40010804u)

#define CR_HSIRDY (1u << 1)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
#define CFGR_SW_PLL 2u
#define CFGR_SWS_MASK (3u << 2)
#define CFGR_SWS_PLL (2u << 2)
#define CFGR_PLLMUL6 (4u << 18) /* PLLSRC = 0: HSI / 2 */

#define SYSCLK_HZ 24000000u
#define READY_WAIT 50000u /* loop iterations: ~6 ms at 8 MHz, QEMU ends here */

#if KT_BOARD_CPU_HZ != SYSCLK_HZ
#error "stm32vldiscovery/clock.c sets up 24 MHz: platforms.yml cpu_frequency_hz must say so"
#endif

static void wait_for(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    for (uint32_t i = 0; i < READY_WAIT && (*reg & mask) != value; i++) {
    }
}

void kt_board_clock_init(void)
{
    wait_for(&RCC_CR, CR_HSIRDY, CR_HSIRDY); /* on after reset */
    RCC_CFGR = CFGR_PLLMUL6;
    RCC_CR |= CR_PLLON;
    wait_for(&RCC_CR, CR_PLLRDY, CR_PLLRDY);
    RCC_CFGR = CFGR_PLLMUL6 | CFGR_SW_PLL;
    wait_for(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL);

    RCC_APB2ENR |= (1u << 0) | (1u << 2) | (1u << 14); /* AFIO, GPIOA, USART1 */
    /* PA9: output 50 MHz, alternate function push-pull (0xB). */
    GPIOA_CRH = (GPIOA_CRH & ~(0xFu << 4)) | (0xBu << 4);
}

uint32_t kt_board_uart_clock_hz(void)
{
    return SYSCLK_HZ;
}
