/* kt_port implementation on Zephyr: interrupt-driven UART receive, hardware cycle counter.
 * The UART is the devicetree chosen node "kenning,tasks-uart" (see boards/*.overlay), or the
 * console UART when a board overlay does not set it. Untested here (no Zephyr workspace). */
#include <string.h>

#include <zephyr/device.h>
#include <zephyr/devicetree.h>
#include <zephyr/drivers/uart.h>
#include <zephyr/kernel.h>
#include <zephyr/sys/ring_buffer.h>

#include "kt_port.h"

#if DT_HAS_CHOSEN(kenning_tasks_uart)
#define KT_UART_NODE DT_CHOSEN(kenning_tasks_uart)
#else
#define KT_UART_NODE DT_CHOSEN(zephyr_console)
#endif

static const struct device *const uart = DEVICE_DT_GET(KT_UART_NODE);

RING_BUF_DECLARE(rx_ring, CONFIG_KT_RX_BUFFER_SIZE);
static K_SEM_DEFINE(rx_sem, 0, 1);

static void uart_isr(const struct device *dev, void *user_data)
{
    ARG_UNUSED(user_data);
    while (uart_irq_update(dev) && uart_irq_is_pending(dev)) {
        if (!uart_irq_rx_ready(dev)) {
            break;
        }
        uint8_t buf[32];
        int n = uart_fifo_read(dev, buf, sizeof buf);
        if (n > 0) {
            /* A full ring drops bytes; the frame CRC then reports the loss to the host. */
            ring_buf_put(&rx_ring, buf, (uint32_t)n);
            k_sem_give(&rx_sem);
        }
    }
}

void kt_port_init(void)
{
    if (!device_is_ready(uart)) {
        k_panic();
    }
    uart_irq_callback_user_data_set(uart, uart_isr, NULL);
    uart_irq_rx_enable(uart);
}

void kt_port_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uart_poll_out(uart, data[i]);
    }
}

int kt_port_read_byte(uint32_t timeout_ms)
{
    uint8_t c;
    k_timeout_t timeout = timeout_ms == KT_WAIT_FOREVER ? K_FOREVER : K_MSEC(timeout_ms);
    int64_t end = k_uptime_get() + (timeout_ms == KT_WAIT_FOREVER ? 0 : timeout_ms);
    for (;;) {
        if (ring_buf_get(&rx_ring, &c, 1) == 1) {
            return c;
        }
        if (timeout_ms != KT_WAIT_FOREVER) {
            int64_t left = end - k_uptime_get();
            if (left <= 0) {
                return -1;
            }
            timeout = K_MSEC(left);
        }
        (void)k_sem_take(&rx_sem, timeout);
    }
}

uint64_t kt_port_ticks(void)
{
#if defined(CONFIG_TIMER_HAS_64BIT_CYCLE_COUNTER)
    return k_cycle_get_64();
#else
    /* Extend the 32-bit counter; called at least once per inference, far below a wrap. */
    static uint32_t last;
    static uint64_t high;
    uint32_t now = k_cycle_get_32();
    if (now < last) {
        high += 1ull << 32;
    }
    last = now;
    return high | now;
#endif
}

uint32_t kt_port_ticks32(void)
{
    return (uint32_t)kt_port_ticks();
}

uint64_t kt_port_timing_start(void)
{
    return kt_port_ticks();
}

uint64_t kt_port_timing_stop(void)
{
    return kt_port_ticks();
}

uint32_t kt_port_tick_hz(void)
{
    return (uint32_t)sys_clock_hw_cycles_per_sec();
}

/* The host compares this with the scenario's board (platforms.yml's zephyr_board): Zephyr 4
 * names a board target with its qualifiers in CONFIG_BOARD_TARGET ("max32690evkit/max32690/m4"),
 * older releases only have CONFIG_BOARD. */
const char *kt_port_board_name(void)
{
#if defined(CONFIG_BOARD_TARGET)
    return CONFIG_BOARD_TARGET;
#else
    return CONFIG_BOARD;
#endif
}

uint32_t kt_port_stack_peak(void)
{
    size_t unused = 0;
    struct k_thread *self = k_current_get();
    if (k_thread_stack_space_get(self, &unused) != 0) {
        return 0;
    }
    return (uint32_t)(self->stack_info.size - unused);
}
