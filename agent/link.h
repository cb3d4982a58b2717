/* The agent's end of the host channel: the frames of proto/agent.h over the
 * virtio-console tty /dev/hvc0.  The decoder is pure (unit-tested on the
 * host); the rest is the tty and blocking writes. */
#ifndef NOVM_AGENT_LINK_H
#define NOVM_AGENT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "proto/agent.h"

#define LINK_DEVICE "/dev/hvc0"
/* virtio_console registers the port a little after its module loads. */
#define LINK_WAIT_MS 5000

/* One decoded frame.  payload points into the decoder's buffer and stays
 * valid until the next link_decoder_feed()/link_decoder_next(). */
struct link_frame {
	uint16_t type;
	uint32_t session;
	uint32_t len;
	const uint8_t *payload;
};

/* Reassembles frames from a byte stream that arrives in arbitrary pieces. */
struct link_decoder {
	uint8_t *buf;
	size_t start, used, cap;	/* unread bytes are buf[start..used) */
	bool broken;			/* a bad header was seen: the stream is lost */
};

void link_decoder_init(struct link_decoder *d);
void link_decoder_release(struct link_decoder *d);

/* Appends len bytes of the stream.  Fails only when out of memory or once
 * the decoder is broken. */
int link_decoder_feed(struct link_decoder *d, const void *data, size_t len, novm_error_t *err);

/* 1 with *out set when a whole frame is buffered, 0 when more bytes are
 * needed, -1 when the header is invalid (payload over PROTO_MAX_PAYLOAD):
 * framing is lost then and the decoder stays broken. */
int link_decoder_next(struct link_decoder *d, struct link_frame *out, novm_error_t *err);

/* The header of a frame in wire byte order. */
void link_encode_header(struct proto_header *h, uint16_t type, uint32_t session, uint32_t len);

struct link {
	int fd;
	struct link_decoder dec;
};

/* Waits up to wait_ms for the device node, opens it and makes the tty raw
 * so the byte stream passes untouched (no echo, no CR/LF mapping, no
 * signals from control characters). */
int link_open(struct link *l, const char *path, int wait_ms, novm_error_t *err);
void link_close(struct link *l);

/* Writes one whole frame (blocking).  len must be <= PROTO_MAX_PAYLOAD. */
int link_send(struct link *l, uint16_t type, uint32_t session, const void *payload, size_t len,
	      novm_error_t *err);

/* link_send() of a NUL-terminated text. */
int link_send_text(struct link *l, uint16_t type, uint32_t session, const char *text,
		   novm_error_t *err);

/* One read() from the channel into the decoder.  Returns 1 when bytes
 * arrived, 0 on end of stream (the host went away), -1 on error. */
int link_fill(struct link *l, novm_error_t *err);

/* Diagnostics: a console line (agent_say) and, once link_set_log_channel()
 * named an open channel, the same text as a PROTO_LOG frame so the host
 * can show why a container did not start. */
void link_set_log_channel(struct link *l);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
