/* Platform port used by the protocol server: one UART and one monotonic tick counter.
 * Bare metal implements it in firmware/boards/common + firmware/app/baremetal, Zephyr in
 * firmware/zephyr/src/zephyr_port.c. */
#ifndef KT_PORT_H
#define KT_PORT_H

#include <stddef.h>
#include <stdint.h>

void kt_port_init(void);

/* Blocking write of len bytes to the host UART. */
void kt_port_write(const uint8_t *data, size_t len);

/* Next received byte (0..255), or -1 if none arrived within timeout_ms.
 * timeout_ms == KT_WAIT_FOREVER blocks until a byte arrives. */
#define KT_WAIT_FOREVER 0xFFFFFFFFu
int kt_port_read_byte(uint32_t timeout_ms);

/* Monotonic 64-bit tick counter and its rate; used for timeouts and to time inference. */
uint64_t kt_port_ticks(void);
uint32_t kt_port_tick_hz(void);
/* Its low 32 bits, cheaper: the per-operator marks inside a measured section read it. */
uint32_t kt_port_ticks32(void);

/* A measured section (one inference): start returns the tick count at its start, stop at its
 * end. A port keeps the section free of anything but the measured code, and may align its
 * start to the tick clock (bare metal restarts SysTick: see firmware/app/baremetal/systick.c). */
uint64_t kt_port_timing_start(void);
uint64_t kt_port_timing_stop(void);

/* Short board name reported to the host in the PING reply. */
const char *kt_port_board_name(void);

/* Peak stack use in bytes since reset (0 when the port cannot measure it). */
uint32_t kt_port_stack_peak(void);

#endif
