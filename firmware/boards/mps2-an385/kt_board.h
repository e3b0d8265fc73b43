/* QEMU mps2-an385 (Cortex-M3): board constants used by firmware/boards/common. */
#ifndef KT_BOARD_H
#define KT_BOARD_H

#define KT_BOARD_NAME "mps2-an385"
/* SYSCLK of the MPS2 FPGA images; also the SysTick (processor) clock. */
#define KT_BOARD_CPU_HZ 25000000u
#define KT_BOARD_UART_BASE 0x40004000u
#define KT_BOARD_UART_BAUD 115200u
#define KT_BOARD_IRQS 32

#endif
