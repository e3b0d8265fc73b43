/* The few Cortex-M core registers the firmware touches (no CMSIS available here). */
#ifndef KT_CORTEX_M_H
#define KT_CORTEX_M_H

#include <stdint.h>

#define KT_REG32(addr) (*(volatile uint32_t *)(addr))

#define SYST_CSR KT_REG32(0xE000E010u)
#define SYST_RVR KT_REG32(0xE000E014u)
#define SYST_CVR KT_REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)

#define NVIC_ISER(irq) KT_REG32(0xE000E100u + 4u * ((irq) / 32u))
#define NVIC_ICER(irq) KT_REG32(0xE000E180u + 4u * ((irq) / 32u))
#define NVIC_BIT(irq) (1u << ((irq) % 32u))

#define SCB_ICSR KT_REG32(0xE000ED04u)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_CPACR KT_REG32(0xE000ED88u)
#define SCB_VTOR KT_REG32(0xE000ED08u)

static inline void kt_dsb_isb(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

static inline void kt_irq_disable(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}

static inline void kt_irq_enable(void)
{
    __asm__ volatile("cpsie i" ::: "memory");
}

/* Mask interrupts and return the previous PRIMASK, to restore with kt_irq_restore. */
static inline uint32_t kt_irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask;
}

static inline void kt_irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
}

static inline uint32_t kt_active_exception(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return ipsr & 0x1FFu;
}

/* Board support: clock tree (the board's folder; a no-op where the reset clock is the one
 * platforms.yml states), the timebase driver, the host UART driver. */
void kt_board_clock_init(void);
void kt_timer_init(void);
void kt_uart_init(void);

/* The UART driver's side of the shared receive loop (uart_wait.c). */
int kt_uart_rx_ready(void);    /* a received byte is waiting */
uint8_t kt_uart_rx_take(void); /* take it (only when kt_uart_rx_ready()) */
void kt_uart_rx_arm(void);     /* interrupts masked: make a received byte end a WFI */
void kt_uart_irq(void);        /* the RX interrupt: quiet it, leave the byte for the reader */

/* A driver with an interrupt of its own besides the UART's (a timer) handles it here and
 * returns 1; the weak default in startup.c handles none. */
int kt_driver_irq(uint32_t irq);

#endif
