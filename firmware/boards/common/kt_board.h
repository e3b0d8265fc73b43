/* Board constants. They are facts from platforms.yml, passed by kenning_tasks.mcu.build as
 * -D flags (the one source of truth): this header only checks that they are all there. */
#ifndef KT_BOARD_H
#define KT_BOARD_H

#if !defined(KT_BOARD_NAME) || !defined(KT_BOARD_CPU_HZ) || !defined(KT_BOARD_UART_BASE) || \
    !defined(KT_BOARD_UART_BAUD) || !defined(KT_BOARD_UART_RX_IRQ) || !defined(KT_BOARD_IRQS)
#error "board constants missing: build with kenning_tasks.mcu.build, which passes them from platforms.yml"
#endif

#if KT_BOARD_UART_RX_IRQ >= KT_BOARD_IRQS
#error "KT_BOARD_UART_RX_IRQ must be one of the board's KT_BOARD_IRQS interrupts"
#endif

#endif
