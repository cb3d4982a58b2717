#include "link.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#define LINK_POLL_MS 20
#define LINK_READ_CHUNK 16384

void link_decoder_init(struct link_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void link_decoder_release(struct link_decoder *d)
{
	free(d->buf);
	link_decoder_init(d);
}

int link_decoder_feed(struct link_decoder *d, const void *data, size_t len, novm_error_t *err)
{
	if (d->broken)
		return novm_error(err, 0, "channel: framing lost earlier");
	/* Move what is left of earlier frames to the front before growing:
	 * the buffer then never exceeds one frame plus one read. */
	if (d->start) {
		memmove(d->buf, d->buf + d->start, d->used - d->start);
		d->used -= d->start;
		d->start = 0;
	}
	if (d->cap - d->used < len) {
		size_t need = d->used + len, cap = d->cap ? d->cap : 4096;
		uint8_t *grown;

		while (cap < need)
			cap *= 2;
		grown = realloc(d->buf, cap);
		if (!grown)
			return novm_error(err, ENOMEM, "channel");
		d->buf = grown;
		d->cap = cap;
	}
	memcpy(d->buf + d->used, data, len);
	d->used += len;
	return 0;
}

int link_decoder_next(struct link_decoder *d, struct link_frame *out, novm_error_t *err)
{
	struct proto_header h;
	size_t avail = d->used - d->start;
	uint32_t len;

	if (d->broken)
		return novm_error(err, 0, "channel: framing lost earlier");
	if (avail < sizeof(h))
		return 0;
	memcpy(&h, d->buf + d->start, sizeof(h));
	len = le32toh(h.len);
	if (len > PROTO_MAX_PAYLOAD) {
		d->broken = true;
		return novm_error(err, 0, "channel: frame of %u bytes (type %u) over the %u limit",
				  len, le16toh(h.type), PROTO_MAX_PAYLOAD);
	}
	if (avail - sizeof(h) < len)
		return 0;
	out->type = le16toh(h.type);
	out->session = le32toh(h.session);
	out->len = len;
	out->payload = d->buf + d->start + sizeof(h);
	d->start += sizeof(h) + len;
	return 1;
}

void link_encode_header(struct proto_header *h, uint16_t type, uint32_t session, uint32_t len)
{
	h->len = htole32(len);
	h->type = htole16(type);
	h->reserved = 0;
	h->session = htole32(session);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int link_open(struct link *l, const char *path, int wait_ms, novm_error_t *err)
{
	cleanup_close int fd = -1;
	struct termios tio;
	int waited = 0;

	link_decoder_init(&l->dec);
	l->fd = -1;
	/* The node may appear before the port can be opened: retry both. */
	for (;;) {
		fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (waited >= wait_ms)
			return novm_error(err, errno, "channel: open `%s` (waited %d ms)", path,
					  waited);
		sleep_ms(LINK_POLL_MS);
		waited += LINK_POLL_MS;
	}
	if (tcgetattr(fd, &tio) < 0)
		return novm_error(err, errno, "channel: tcgetattr `%s`", path);
	cfmakeraw(&tio);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &tio) < 0)
		return novm_error(err, errno, "channel: tcsetattr `%s`", path);
	/* Whatever came or was echoed before the port went raw is noise: the
	 * host speaks only after PROTO_READY. */
	tcflush(fd, TCIOFLUSH);
	l->fd = steal_fd(&fd);
	return 0;
}

void link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	link_decoder_release(&l->dec);
}

int link_send(struct link *l, uint16_t type, uint32_t session, const void *payload, size_t len,
	      novm_error_t *err)
{
	struct proto_header h;
	struct iovec iov[2];
	size_t done = 0, total;

	if (len > PROTO_MAX_PAYLOAD)
		return novm_error(err, 0, "channel: frame of %zu bytes over the %u limit", len,
				  PROTO_MAX_PAYLOAD);
	link_encode_header(&h, type, session, (uint32_t)len);
	total = sizeof(h) + len;
	/* A tty may take a frame in pieces: resume where the last write
	 * stopped, across the header/payload boundary. */
	while (done < total) {
		int n = 0;
		ssize_t w;

		if (done < sizeof(h)) {
			iov[n].iov_base = (char *)&h + done;
			iov[n++].iov_len = sizeof(h) - done;
		}
		if (len) {
			size_t off = done > sizeof(h) ? done - sizeof(h) : 0;

			iov[n].iov_base = (char *)payload + off;
			iov[n++].iov_len = len - off;
		}
		w = writev(l->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return novm_error(err, errno, "channel: write");
		}
		done += w;
	}
	return 0;
}

int link_send_text(struct link *l, uint16_t type, uint32_t session, const char *text,
		   novm_error_t *err)
{
	size_t len = strlen(text);

	return link_send(l, type, session, text, len > PROTO_MAX_PAYLOAD ? PROTO_MAX_PAYLOAD : len,
			 err);
}

int link_fill(struct link *l, novm_error_t *err)
{
	uint8_t chunk[LINK_READ_CHUNK];
	ssize_t r;

	do
		r = read(l->fd, chunk, sizeof(chunk));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN)
			return 1;
		return novm_error(err, errno, "channel: read");
	}
	if (r == 0)
		return 0;
	if (link_decoder_feed(&l->dec, chunk, r, err) < 0)
		return -1;
	return 1;
}

static struct link *log_channel;

void link_set_log_channel(struct link *l)
{
	log_channel = l;
}

void agent_log(const char *fmt, ...)
{
	cleanup_free char *text = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	agent_say("%s", text);
	if (log_channel && log_channel->fd >= 0) {
		novm_error_t err = NULL;

		if (link_send_text(log_channel, PROTO_LOG, 0, text, &err) < 0)
			novm_error_release(&err);
	}
}
