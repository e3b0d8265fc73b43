#include "kt_protocol.h"

#include "kt_port.h"

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): the same as Python's binascii.crc_hqx. */
uint16_t kt_crc16(uint16_t crc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)data[i] << 8;
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

/* Does window[0..have) still look like the start of a valid header? */
static int header_prefix_ok(const uint8_t *w, uint32_t have)
{
    if (have >= 1 && w[0] != KT_MAGIC0) {
        return 0;
    }
    if (have >= 2 && w[1] != KT_MAGIC1) {
        return 0;
    }
    if (have == KT_HEADER_BYTES) {
        uint16_t crc = (uint16_t)(w[6] | (w[7] << 8));
        return kt_crc16(0xFFFFu, w, 6) == crc;
    }
    return 1;
}

uint32_t kt_frame_drain(void)
{
    uint32_t n = 0;
    while (kt_port_read_byte(KT_IDLE_TIMEOUT_MS) >= 0) {
        n++;
    }
    return n;
}

static struct kt_rx_result rx_error(uint8_t code, uint32_t detail, uint32_t bytes, uint32_t garbage)
{
    struct kt_rx_result r = {KT_RX_ERROR, code, detail, bytes, garbage, 0};
    return r;
}

struct kt_rx_result kt_frame_receive(struct kt_frame *frame)
{
    uint8_t w[KT_HEADER_BYTES];
    uint32_t have = 0;
    uint32_t garbage = 0;
    uint32_t bytes = 0;

    /* Slide a header-sized window over the input until it holds a header whose CRC matches;
     * every byte shifted out is garbage. Garbage is reported once the line goes quiet. */
    while (have < KT_HEADER_BYTES || !header_prefix_ok(w, have)) {
        uint32_t timeout = have ? KT_BYTE_TIMEOUT_MS
                                : (garbage ? KT_IDLE_TIMEOUT_MS : KT_WAIT_FOREVER);
        int c = kt_port_read_byte(timeout);
        if (c < 0) {
            /* A header that stopped part-way cannot be told from junk: garbage too. */
            return rx_error(KT_ERR_GARBAGE, garbage + have, bytes, garbage + have);
        }
        bytes++;
        w[have++] = (uint8_t)c;
        while (have > 0 && !header_prefix_ok(w, have)) {
            for (uint32_t i = 1; i < have; i++) {
                w[i - 1] = w[i];
            }
            have--;
            garbage++;
        }
    }
    /* Garbage directly followed by a valid frame is not reported: the frame is handled and
     * the dropped bytes only show up in the statistics. */
    frame->version = w[2];
    frame->type = w[3];
    frame->length = (uint16_t)(w[4] | (w[5] << 8));

    /* A header whose length cannot be trusted (another version: only magic and version are
     * fixed across versions) or cannot be held: the caller replies at once, then drains the
     * rest so it is not mistaken for frames. Replying first matters: the host decides on
     * that reply, and waiting for the line to go quiet first left it waiting for a reply
     * whose delay depended on its own retries. */
    if (frame->version != KT_PROTOCOL_VERSION) {
        struct kt_rx_result r = rx_error(KT_ERR_VERSION, KT_PROTOCOL_VERSION, bytes, garbage);
        r.drain = 1;
        return r;
    }
    if (frame->length > KT_MAX_PAYLOAD) {
        struct kt_rx_result r = rx_error(KT_ERR_TOO_LARGE, KT_MAX_PAYLOAD, bytes, garbage);
        r.drain = 1;
        return r;
    }

    uint8_t crc_bytes[KT_CRC_BYTES];
    uint32_t total = (uint32_t)frame->length + KT_CRC_BYTES;
    for (uint32_t i = 0; i < total; i++) {
        int c = kt_port_read_byte(KT_BYTE_TIMEOUT_MS);
        if (c < 0) {
            return rx_error(KT_ERR_TIMEOUT, KT_HEADER_BYTES + i, bytes, garbage);
        }
        bytes++;
        if (i < frame->length) {
            frame->payload[i] = (uint8_t)c;
        } else {
            crc_bytes[i - frame->length] = (uint8_t)c;
        }
    }
    uint16_t want = (uint16_t)(crc_bytes[0] | (crc_bytes[1] << 8));
    if (kt_crc16(0xFFFFu, frame->payload, frame->length) != want) {
        return rx_error(KT_ERR_BAD_CRC, 0, bytes, garbage);
    }
    struct kt_rx_result ok = {KT_RX_FRAME, 0, 0, bytes, garbage, 0};
    return ok;
}

size_t kt_frame_send(uint8_t type, const uint8_t *payload, uint16_t length)
{
    uint8_t header[KT_HEADER_BYTES];
    header[0] = KT_MAGIC0;
    header[1] = KT_MAGIC1;
    header[2] = (uint8_t)KT_PROTOCOL_VERSION;
    header[3] = type;
    kt_put_u16(header + 4, length);
    kt_put_u16(header + 6, kt_crc16(0xFFFFu, header, 6));
    uint8_t crc[KT_CRC_BYTES];
    kt_put_u16(crc, kt_crc16(0xFFFFu, payload, length));
    kt_port_write(header, sizeof header);
    if (length) {
        kt_port_write(payload, length);
    }
    kt_port_write(crc, sizeof crc);
    return KT_HEADER_BYTES + length + KT_CRC_BYTES;
}
