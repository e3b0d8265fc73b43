/* Per-operator timing for the QEMU harness (-DKT_H_PER_OP -include op_timing.h): model.c's
 * KT_OP_BEGIN/KT_OP_END hooks accumulate SysTick ticks per op index, harness.c prints them. */
#ifndef KT_H_OP_TIMING_H
#define KT_H_OP_TIMING_H

#include <stdint.h>

#define KT_H_MAX_OPS 256
extern uint32_t kt_h_op_ticks[KT_H_MAX_OPS];
uint64_t kt_h_now(void);
extern uint64_t kt_h_op_start;

#define KT_OP_BEGIN(index) (kt_h_op_start = kt_h_now())
#define KT_OP_END(index) (kt_h_op_ticks[(index)] += (uint32_t)(kt_h_now() - kt_h_op_start))

#endif
