/* Framing of the host <-> target protocol. See PROTOCOL.md for the byte layout. */
#ifndef KT_PROTOCOL_H
#define KT_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifndef KT_PROTOCOL_VERSION
#define KT_PROTOCOL_VERSION 2u
#endif

#define KT_MAGIC0 0x4Bu /* 'K' */
#define KT_MAGIC1 0x54u /* 'T' */
#define KT_HEADER_BYTES 8u
#define KT_CRC_BYTES 2u
#ifndef KT_MAX_PAYLOAD
#define KT_MAX_PAYLOAD 1024u
#endif

/* Inter-byte timeout inside a frame, and the quiet time that ends a run of garbage.
 * Both are measured on the tick counter while the core sleeps between bytes, so under QEMU's
 * -icount they last about as long in real time as in virtual time (PROTOCOL.md, Timeouts).
 * The host sends every frame in one write, so only a stalled link, not a slow host, makes
 * a byte arrive later than KT_BYTE_TIMEOUT_MS after the previous one. */
#define KT_BYTE_TIMEOUT_MS 100u
#define KT_IDLE_TIMEOUT_MS 20u

enum kt_msg_type {
    KT_MSG_PING = 1,
    KT_MSG_OK = 2,
    KT_MSG_ERROR = 3,
    KT_MSG_DATA = 4,
    KT_MSG_PROCESS = 5,
    KT_MSG_OUTPUT = 6,
    KT_MSG_STATS = 7,
    KT_MSG_OPS = 8,
};

enum kt_error_code {
    KT_ERR_GARBAGE = 1,          /* bytes outside any valid frame were dropped; detail = count */
    KT_ERR_BAD_CRC = 2,          /* payload CRC mismatch */
    KT_ERR_VERSION = 3,          /* frame version != target version; detail = target version */
    KT_ERR_TOO_LARGE = 4,        /* length > max payload; detail = max payload */
    KT_ERR_TIMEOUT = 5,          /* frame stopped mid-way; detail = bytes of it received */
    KT_ERR_UNKNOWN_TYPE = 6,     /* detail = the type */
    KT_ERR_BAD_LENGTH = 7,       /* payload length wrong for the type; detail = expected */
    KT_ERR_BAD_OFFSET = 8,       /* DATA/OUTPUT offset out of range; detail = tensor size */
    KT_ERR_INPUT_INCOMPLETE = 9, /* PROCESS before the whole input arrived; detail = bytes */
    KT_ERR_INVOKE = 10,          /* kt_model_invoke failed; detail = its return code */
    KT_ERR_NO_OUTPUT = 11,       /* OUTPUT before a successful PROCESS */
};

enum kt_rx_status {
    KT_RX_FRAME = 0, /* a well-formed frame of our version is in the kt_frame */
    KT_RX_ERROR = 1, /* reply with ERROR(code, detail) */
};

struct kt_frame {
    uint8_t version;
    uint8_t type;
    uint16_t length;
    uint8_t *payload; /* caller-provided buffer of KT_MAX_PAYLOAD bytes */
};

struct kt_rx_result {
    enum kt_rx_status status;
    uint8_t error;
    uint32_t detail;
    uint32_t bytes;         /* bytes consumed from the UART for this result */
    uint32_t garbage_bytes; /* of which dropped as garbage */
    int drain;              /* after replying, drop input until the line is quiet */
};

uint16_t kt_crc16(uint16_t crc, const uint8_t *data, size_t len);

/* Block until a frame or a reportable error arrives. */
struct kt_rx_result kt_frame_receive(struct kt_frame *frame);

/* Discard input until the line has been quiet for KT_IDLE_TIMEOUT_MS; returns bytes dropped. */
uint32_t kt_frame_drain(void);

/* Send one frame; returns the number of bytes written. */
size_t kt_frame_send(uint8_t type, const uint8_t *payload, uint16_t length);

static inline void kt_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void kt_put_u32(uint8_t *p, uint32_t v)
{
    kt_put_u16(p, (uint16_t)v);
    kt_put_u16(p + 2, (uint16_t)(v >> 16));
}

static inline void kt_put_u64(uint8_t *p, uint64_t v)
{
    kt_put_u32(p, (uint32_t)v);
    kt_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t kt_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

#endif
