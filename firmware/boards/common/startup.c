/* Reset handler, vector table and fault handling shared by the Cortex-M boards. */
#include <stdint.h>
#include <string.h>

#include "cortex_m.h"
#include "kt_board.h"
#include "kt_port.h"

/* Provided by sections.ld. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];

int main(void);

#define STACK_PAINT 0xA5A5A5A5u

void Reset_Handler(void) __attribute__((noreturn));
void Reset_Handler(void)
{
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8M_BASE__)
    /* Armv8-M: a stack that grows past its section faults (STKOF) instead of silently
     * overwriting .bss below it. */
    __asm__ volatile("msr msplim, %0" : : "r"(__stack_bottom));
#endif
#if defined(__ARM_FP)
    /* Grant full access to CP10/CP11 before any FPU instruction runs. */
    SCB_CPACR |= 0xFu << 20;
    kt_dsb_isb();
#endif
    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));

    /* Paint the unused stack so kt_port_stack_peak() can find the high-water mark. */
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = __stack_bottom; p < sp - 16; p++) {
        *p = STACK_PAINT;
    }

    main();
    for (;;) {
    }
}

/* Boards whose reset clock is already the one platforms.yml states (the MPS2 FPGA images)
 * have no clock setup. */
__attribute__((weak)) void kt_board_clock_init(void)
{
}

__attribute__((weak)) int kt_driver_irq(uint32_t irq)
{
    (void)irq;
    return 0;
}

void kt_port_init(void)
{
    kt_board_clock_init();
    kt_uart_init();
    kt_timer_init();
}

const char *kt_port_board_name(void)
{
    return KT_BOARD_NAME;
}

uint32_t kt_port_stack_peak(void)
{
    const uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((const char *)__stack_top - (const char *)p);
}

/* Faults: say so on the console (the host sees garbage and times out), then stop. */
void kt_fault_handler(void)
{
    static const char msg[] = "\r\n!! fault\r\n";
    kt_port_write((const uint8_t *)msg, sizeof msg - 1);
    for (;;) {
    }
}

void NMI_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void HardFault_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void MemManage_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void BusFault_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void SVC_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void PendSV_Handler(void) __attribute__((weak, alias("kt_fault_handler")));
void SysTick_Handler(void) __attribute__((weak, alias("kt_fault_handler")));

/* External interrupts: only the UART's receive interrupt and a timer driver's are enabled. */
void kt_irq_handler(void)
{
    uint32_t irq = kt_active_exception() - 16u;
    if (irq == KT_BOARD_UART_RX_IRQ) {
        kt_uart_irq();
        return;
    }
    if (kt_driver_irq(irq)) {
        return;
    }
    kt_fault_handler();
}

typedef void (*kt_vector)(void);

/* 16 core exceptions + the external IRQs; unused IRQs are never enabled. */
__attribute__((section(".vectors"), used)) static const kt_vector vectors[16 + KT_BOARD_IRQS] = {
    (kt_vector)(uintptr_t)__stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
#if defined(__ARM_ARCH_8M_MAIN__)
    kt_fault_handler, /* SecureFault: the firmware runs in the Secure state */
#else
    0,
#endif
    0,
    0,
    0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 ... 16 + KT_BOARD_IRQS - 1] = kt_irq_handler,
};
