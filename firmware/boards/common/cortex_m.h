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

#define SCB_CPACR KT_REG32(0xE000ED88u)
#define SCB_VTOR KT_REG32(0xE000ED08u)

static inline void kt_dsb_isb(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void kt_systick_init(void);
void kt_uart_init(void);

#endif
