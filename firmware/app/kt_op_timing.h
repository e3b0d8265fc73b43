/* Per-operator timing in the firmware: the bare-metal build force-includes this header
 * (-include), so model.c's KT_OP_BEGIN/KT_OP_END hooks (empty by default) each record one
 * tick counter reading (kt_op_mark in kt_server.c). Cheap enough to stay compiled in: a call,
 * a counter read and a store, 28 instructions per hook on Cortex-M4 (0.5 % of the default
 * model's count). The host reads the readings of the last inference with an OPS request and
 * turns each into an exact instruction position (PROTOCOL.md, Per-operator timing).
 * KT_NO_OP_TIMING (e.g. the platform block's `defines`) leaves the hooks empty: no per-op
 * counts, and none of their instructions in the whole count. */
#ifndef KT_OP_TIMING_H
#define KT_OP_TIMING_H

void kt_op_mark(void);

#ifndef KT_NO_OP_TIMING
#define KT_OP_BEGIN(index) kt_op_mark()
#define KT_OP_END(index) kt_op_mark()
#endif

#endif
