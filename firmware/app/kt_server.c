/* Protocol server: receives the input tensor, runs the model, returns output and timing. */
#include "kt_server.h"

#include <string.h>

#include "kt_op_timing.h"
#include "kt_port.h"
#include "kt_protocol.h"
#include "model.h"

#define PING_INFO_BYTES 28u
#define STATS_BYTES 56u
#define OFFSET_BYTES 4u

_Static_assert(KT_MAX_PAYLOAD >= STATS_BYTES + OFFSET_BYTES, "KT_MAX_PAYLOAD is too small");
_Static_assert(KT_MAX_PAYLOAD <= 0xFFFFu, "the frame length field has 16 bits");

/* Model tensors are word aligned so the kernels may use wider loads. */
static int8_t input_tensor[KT_MODEL_INPUT_BYTES] __attribute__((aligned(8)));
static int8_t output_tensor[KT_MODEL_OUTPUT_BYTES] __attribute__((aligned(8)));
static uint8_t rx_payload[KT_MAX_PAYLOAD] __attribute__((aligned(4)));
static uint8_t tx_payload[KT_MAX_PAYLOAD] __attribute__((aligned(4)));

/* Per-operator timing: the tick counter at each KT_OP_BEGIN/KT_OP_END of the last inference
 * (low 32 bits; kt_op_timing.h). A build without the hooks records none. */
#ifndef KT_MODEL_KERNEL_OPS
#define KT_MODEL_KERNEL_OPS 0
#endif
#define OP_MARKS (2u * (uint32_t)KT_MODEL_KERNEL_OPS)
#define OPS_HEADER_BYTES 8u
static uint32_t op_marks[OP_MARKS ? OP_MARKS : 1u];
static uint32_t op_marks_n;   /* readings taken so far in this inference */

void kt_op_mark(void)
{
    uint32_t now = kt_port_ticks32(); /* first: the reading is the op's boundary */
    if (op_marks_n < OP_MARKS) {
        op_marks[op_marks_n++] = now;
    }
}

static struct {
    uint32_t input_filled; /* length of the contiguous prefix of input_tensor received */
    int output_valid;
    uint64_t last_ticks;
    uint64_t total_ticks;
    uint32_t inferences;
    uint32_t rx_bytes;
    uint32_t tx_bytes;
    uint32_t frames_ok;
    uint32_t frames_bad;
    uint32_t garbage_bytes;
    uint32_t op_marks;    /* readings of the last successful inference */
    uint32_t op_start;    /* its section's start tick (low 32 bits) */
} st;

static void send(uint8_t type, const uint8_t *payload, uint16_t length)
{
    st.tx_bytes += (uint32_t)kt_frame_send(type, payload, length);
}

static void send_error(uint8_t code, uint32_t detail)
{
    uint8_t p[8] = {code, 0, 0, 0};
    kt_put_u32(p + 4, detail);
    send(KT_MSG_ERROR, p, sizeof p);
}

static void handle_ping(void)
{
    uint8_t *p = tx_payload;
    memset(p, 0, PING_INFO_BYTES);
    p[0] = (uint8_t)KT_PROTOCOL_VERSION;
#if defined(__ARM_FP)
    p[1] = 1; /* flags bit 0: hardware floating point */
#endif
    kt_put_u16(p + 2, KT_MAX_PAYLOAD);
    kt_put_u32(p + 4, KT_MODEL_INPUT_BYTES);
    kt_put_u32(p + 8, KT_MODEL_OUTPUT_BYTES);
    kt_put_u32(p + 12, KT_MODEL_ARENA_BYTES);
    kt_put_u32(p + 16, kt_port_tick_hz());
    kt_put_u32(p + 20, kt_port_stack_peak());
    kt_put_u32(p + 24, st.inferences);
    /* The board name follows the fixed part, without a terminator. */
    const char *name = kt_port_board_name();
    uint16_t n = (uint16_t)strlen(name);
    if (n > KT_MAX_PAYLOAD - PING_INFO_BYTES) {
        n = (uint16_t)(KT_MAX_PAYLOAD - PING_INFO_BYTES);
    }
    memcpy(p + PING_INFO_BYTES, name, n);
    send(KT_MSG_OK, p, (uint16_t)(PING_INFO_BYTES + n));
}

static void handle_data(const struct kt_frame *f)
{
    if (f->length < OFFSET_BYTES) {
        send_error(KT_ERR_BAD_LENGTH, OFFSET_BYTES);
        return;
    }
    uint32_t offset = kt_get_u32(f->payload);
    uint32_t n = f->length - OFFSET_BYTES;
    if (offset > KT_MODEL_INPUT_BYTES || n > KT_MODEL_INPUT_BYTES - offset) {
        send_error(KT_ERR_BAD_OFFSET, KT_MODEL_INPUT_BYTES);
        return;
    }
    memcpy(input_tensor + offset, f->payload + OFFSET_BYTES, n);
    /* Offset 0 starts a new input; later chunks must continue the contiguous prefix. */
    if (offset == 0) {
        st.input_filled = n;
    } else if (offset <= st.input_filled && offset + n > st.input_filled) {
        st.input_filled = offset + n;
    }
    uint8_t p[4];
    kt_put_u32(p, st.input_filled);
    send(KT_MSG_OK, p, sizeof p);
}

static void handle_process(const struct kt_frame *f)
{
    if (f->length != 0) {
        send_error(KT_ERR_BAD_LENGTH, 0);
        return;
    }
    if (st.input_filled != KT_MODEL_INPUT_BYTES) {
        send_error(KT_ERR_INPUT_INCOMPLETE, st.input_filled);
        return;
    }
    op_marks_n = 0;
    uint64_t t0 = kt_port_timing_start();
    int rc = kt_model_invoke(input_tensor, output_tensor);
    uint64_t t1 = kt_port_timing_stop();
    st.input_filled = 0;
    st.op_marks = rc == 0 ? op_marks_n : 0u;
    st.op_start = (uint32_t)t0;
    if (rc != 0) {
        st.output_valid = 0;
        send_error(KT_ERR_INVOKE, (uint32_t)rc);
        return;
    }
    st.output_valid = 1;
    st.last_ticks = t1 - t0;
    st.total_ticks += st.last_ticks;
    st.inferences++;
    uint8_t p[8];
    kt_put_u64(p, st.last_ticks);
    send(KT_MSG_OK, p, sizeof p);
}

static void handle_output(const struct kt_frame *f)
{
    if (f->length != OFFSET_BYTES) {
        send_error(KT_ERR_BAD_LENGTH, OFFSET_BYTES);
        return;
    }
    if (!st.output_valid) {
        send_error(KT_ERR_NO_OUTPUT, 0);
        return;
    }
    uint32_t offset = kt_get_u32(f->payload);
    if (offset > KT_MODEL_OUTPUT_BYTES) {
        send_error(KT_ERR_BAD_OFFSET, KT_MODEL_OUTPUT_BYTES);
        return;
    }
    uint32_t n = KT_MODEL_OUTPUT_BYTES - offset;
    if (n > KT_MAX_PAYLOAD - OFFSET_BYTES) {
        n = KT_MAX_PAYLOAD - OFFSET_BYTES;
    }
    kt_put_u32(tx_payload, offset);
    memcpy(tx_payload + OFFSET_BYTES, output_tensor + offset, n);
    send(KT_MSG_OUTPUT, tx_payload, (uint16_t)(OFFSET_BYTES + n));
}

static void handle_stats(const struct kt_frame *f)
{
    if (f->length != 0) {
        send_error(KT_ERR_BAD_LENGTH, 0);
        return;
    }
    uint8_t *p = tx_payload;
    kt_put_u64(p + 0, st.last_ticks);
    kt_put_u64(p + 8, st.total_ticks);
    kt_put_u32(p + 16, st.inferences);
    kt_put_u32(p + 20, kt_port_tick_hz());
    kt_put_u32(p + 24, st.rx_bytes);
    kt_put_u32(p + 28, st.tx_bytes);
    kt_put_u32(p + 32, st.frames_ok);
    kt_put_u32(p + 36, st.frames_bad);
    kt_put_u32(p + 40, st.garbage_bytes);
    kt_put_u32(p + 44, kt_port_stack_peak());
    kt_put_u32(p + 48, KT_MODEL_ARENA_BYTES);
    kt_put_u32(p + 52, (uint32_t)KT_PROTOCOL_VERSION);
    send(KT_MSG_STATS, p, STATS_BYTES);
}

/* OPS(first) -> OPS(first, readings, ticks since the section start of readings first...):
 * as many as fit, the host asks again from where the reply ended. */
static void handle_ops(const struct kt_frame *f)
{
    if (f->length != OFFSET_BYTES) {
        send_error(KT_ERR_BAD_LENGTH, OFFSET_BYTES);
        return;
    }
    uint32_t first = kt_get_u32(f->payload);
    if (first > st.op_marks) {
        send_error(KT_ERR_BAD_OFFSET, st.op_marks);
        return;
    }
    uint32_t n = st.op_marks - first;
    if (n > (KT_MAX_PAYLOAD - OPS_HEADER_BYTES) / 4u) {
        n = (KT_MAX_PAYLOAD - OPS_HEADER_BYTES) / 4u;
    }
    kt_put_u32(tx_payload, first);
    kt_put_u32(tx_payload + 4, st.op_marks);
    for (uint32_t i = 0; i < n; i++) {
        kt_put_u32(tx_payload + OPS_HEADER_BYTES + 4u * i, op_marks[first + i] - st.op_start);
    }
    send(KT_MSG_OPS, tx_payload, (uint16_t)(OPS_HEADER_BYTES + 4u * n));
}

void kt_server_run(void)
{
    struct kt_frame frame = {0, 0, 0, rx_payload};
    for (;;) {
        struct kt_rx_result r = kt_frame_receive(&frame);
        st.rx_bytes += r.bytes;
        st.garbage_bytes += r.garbage_bytes;
        if (r.status == KT_RX_ERROR) {
            st.frames_bad++;
            send_error(r.error, r.detail);
            if (r.drain) {
                st.rx_bytes += kt_frame_drain();
            }
            continue;
        }
        st.frames_ok++;
        switch (frame.type) {
        case KT_MSG_PING:
            handle_ping();
            break;
        case KT_MSG_DATA:
            handle_data(&frame);
            break;
        case KT_MSG_PROCESS:
            handle_process(&frame);
            break;
        case KT_MSG_OUTPUT:
            handle_output(&frame);
            break;
        case KT_MSG_STATS:
            handle_stats(&frame);
            break;
        case KT_MSG_OPS:
            handle_ops(&frame);
            break;
        default:
            send_error(KT_ERR_UNKNOWN_TYPE, frame.type);
            break;
        }
    }
}
