#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include "cleanup.h"
#include "util.h"

/* ---- fds ---- */

/* Whether opening the fd's file again reaches the same object: true for
 * pipes and FIFOs, terminals and ordinary devices; not for the devices of
 * major 5 (/dev/tty is whatever the opener's terminal is, /dev/ptmx and
 * pty masters would make a new pty). */
static bool reopens_same(const struct stat *st)
{
	return S_ISFIFO(st->st_mode) || (S_ISCHR(st->st_mode) && major(st->st_rdev) != 5);
}

/* A new open file for the same pipe/FIFO/terminal, non-blocking, so the
 * client's own open file keeps its flags.  -1 when that is impossible
 * (a FIFO without reader...). */
static int reopen_nonblocking(int fd, int access)
{
	char path[48];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, access | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

bool relay_same_file(int a, int b)
{
	pid_t pid = getpid();

	if (a == b)
		return true;
	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

/* ---- sinks ---- */

enum sink_mode {
	SINK_WRITE,	/* non-blocking open file */
	SINK_SEND,	/* socket: send(MSG_DONTWAIT) */
	SINK_CHUNKED,	/* blocking but pollable: poll, then at most PIPE_BUF */
	SINK_PLAIN,	/* unpollable (regular file...): plain writes */
};

struct relay_sink {
	struct evset *set;
	struct evwatch watch;
	int refs;
	enum sink_mode mode;
	int fd;			/* what we write to */
	int extra_fd;		/* the owned original when fd is a reopened copy */
	bool close_fd;
	uint8_t *buf;		/* backlog: buf[head .. head + len) */
	size_t head, len, cap;
	bool overflowing;	/* dropping until the backlog is half gone */
	bool broken;
	void (*drained)(void *opaque);
	void *drained_opaque;
};

int relay_sink_new(struct evset *set, int fd, bool own, struct relay_sink **out,
		   novm_error_t *err)
{
	struct relay_sink *s = calloc(1, sizeof(*s));
	struct stat st;
	int fl;

	if (!s) {
		if (own)
			close(fd);
		return novm_error(err, ENOMEM, "output relay");
	}
	evwatch_init(&s->watch);
	s->set = set;
	s->refs = 1;
	s->fd = fd;
	s->extra_fd = -1;
	s->close_fd = own;
	if (fstat(fd, &st) < 0) {
		s->broken = true;
	} else if (S_ISSOCK(st.st_mode)) {
		s->mode = SINK_SEND;
	} else if ((fl = fcntl(fd, F_GETFL)) >= 0 && (fl & O_NONBLOCK)) {
		s->mode = SINK_WRITE;
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		int copy = reopens_same(&st) ? reopen_nonblocking(fd, O_WRONLY) : -1;

		if (copy >= 0) {
			if (own)
				s->extra_fd = fd;
			s->fd = copy;
			s->close_fd = true;
			s->mode = SINK_WRITE;
		} else {
			s->mode = SINK_CHUNKED;
		}
	} else {
		s->mode = SINK_PLAIN;
	}
	*out = s;
	return 0;
}

struct relay_sink *relay_sink_ref(struct relay_sink *sink)
{
	sink->refs++;
	return sink;
}

void relay_sink_free(struct relay_sink *sink)
{
	if (!sink || --sink->refs > 0)
		return;
	evset_unwatch(sink->set, &sink->watch);
	if (sink->close_fd)
		close_and_forget(&sink->fd);
	close_and_forget(&sink->extra_fd);
	free(sink->buf);
	free(sink);
}

size_t relay_sink_backlog(const struct relay_sink *sink)
{
	return sink->len;
}

bool relay_sink_broken(const struct relay_sink *sink)
{
	return sink->broken;
}

void relay_sink_on_drained(struct relay_sink *sink, void (*fn)(void *opaque), void *opaque)
{
	sink->drained = fn;
	sink->drained_opaque = opaque;
}

static void sink_break(struct relay_sink *s)
{
	s->broken = true;
	s->len = s->head = 0;
	evset_unwatch(s->set, &s->watch);
}

/* Writes what the reader takes now.  Returns the bytes written; a failure
 * other than "would block" breaks the sink. */
static size_t sink_try(struct relay_sink *s, const uint8_t *data, size_t len)
{
	size_t done = 0;

	while (done < len && !s->broken) {
		size_t want = len - done;
		ssize_t n;

		switch (s->mode) {
		case SINK_SEND:
			n = send(s->fd, data + done, want, MSG_DONTWAIT | MSG_NOSIGNAL);
			break;
		case SINK_CHUNKED: {
			struct pollfd p = { .fd = s->fd, .events = POLLOUT };

			if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT)) {
				if (p.revents & (POLLERR | POLLNVAL))
					sink_break(s);
				return done;
			}
			/* A pipe with room takes PIPE_BUF bytes without blocking. */
			n = write(s->fd, data + done, want < PIPE_BUF ? want : PIPE_BUF);
			break;
		}
		default:
			n = write(s->fd, data + done, want);
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return done;
		if (n <= 0) {
			sink_break(s);	/* the reader is gone: keep the session going */
			return done;
		}
		done += (size_t)n;
	}
	return done;
}

static void sink_notify_drained(struct relay_sink *s)
{
	if ((s->len == 0 || s->broken) && s->drained)
		s->drained(s->drained_opaque);
}

/* Writes as much of the backlog as the reader takes now. */
static void sink_flush_some(struct relay_sink *s)
{
	size_t n = sink_try(s, s->buf + s->head, s->len);

	s->head += n;
	s->len -= n;
	if (s->len == 0)
		s->head = 0;
	if (s->overflowing && s->len <= RELAY_SINK_MAX / 2)
		s->overflowing = false;
}

static void sink_on_event(struct evwatch *w, uint32_t revents)
{
	struct relay_sink *s = evwatch_owner(w, struct relay_sink, watch);

	if (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		sink_flush_some(s);
	if (revents & (EPOLLERR | EPOLLHUP) && s->len && !(revents & EPOLLOUT))
		sink_break(s);
	if (s->len == 0 || s->broken) {
		evset_unwatch(s->set, &s->watch);
		sink_notify_drained(s);
	}
}

static int sink_queue(struct relay_sink *s, const uint8_t *data, size_t len)
{
	if (s->head && s->head + s->len + len > s->cap) {
		memmove(s->buf, s->buf + s->head, s->len);
		s->head = 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		uint8_t *grown;

		while (cap < s->len + len)
			cap *= 2;
		grown = realloc(s->buf, cap);
		if (!grown)
			return -ENOMEM;
		s->buf = grown;
		s->cap = cap;
	}
	memcpy(s->buf + s->head + s->len, data, len);
	s->len += len;
	if (!evwatch_active(&s->watch) &&
	    evset_watch(s->set, &s->watch, s->fd, EPOLLOUT, sink_on_event) < 0)
		sink_break(s);	/* nobody would ever tell us when to write */
	return 0;
}

/* Gives a slow reader up to RELAY_STALL_MS to make room for `need` more
 * bytes.  True when there is room now. */
static bool sink_wait_for_room(struct relay_sink *s, size_t need)
{
	int64_t deadline = monotonic_ms() + RELAY_STALL_MS;

	while (!s->broken && s->len + need > RELAY_SINK_MAX) {
		int64_t left = deadline - monotonic_ms();
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };

		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return false;
		sink_flush_some(s);
	}
	return true;
}

size_t relay_sink_write(struct relay_sink *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t dropped = 0;

	if (s->broken || !len)
		return 0;
	if (s->len == 0) {
		size_t n = sink_try(s, p, len);

		p += n;
		len -= n;
		if (!len || s->broken)
			return 0;
	}
	if (s->len + len > RELAY_SINK_MAX) {
		if (!s->overflowing && !sink_wait_for_room(s, len))
			s->overflowing = true;
		if (s->broken)
			return 0;
		if (s->len + len > RELAY_SINK_MAX) {
			size_t room = RELAY_SINK_MAX > s->len ? RELAY_SINK_MAX - s->len : 0;

			dropped = len - room;
			len = room;
		}
	}
	if (len && sink_queue(s, p, len) < 0)
		dropped += len;
	return dropped;
}

void relay_sink_flush(struct relay_sink *s, int stall_ms)
{
	int64_t deadline = monotonic_ms() + stall_ms;

	while (s->len && !s->broken) {
		size_t before = s->len;
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };
		int64_t left = deadline - monotonic_ms();

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
		sink_flush_some(s);
		if (s->len < before)
			deadline = monotonic_ms() + stall_ms;
	}
}

/* ---- sources ---- */

enum source_mode {
	SOURCE_READ,	/* pollable fd (our non-blocking copy if possible) */
	SOURCE_RECV,	/* socket: recv(MSG_DONTWAIT) */
	SOURCE_UNPOLLABLE,	/* regular file, /dev/null...: read whenever */
};

struct relay_source {
	struct evset *set;
	struct evwatch watch;
	enum source_mode mode;
	int fd;
	int extra_fd;		/* the owned original when fd is a copy */
	bool close_fd;
	int kick_fd;		/* SOURCE_UNPOLLABLE: an eventfd that stays readable */
	relay_input_fn fn;
	void *opaque;
	uint8_t *held;		/* the chunk fn could not take */
	size_t held_len;
	bool eof_held;		/* the end of input could not be passed on yet */
	bool paused, done;
};

static void source_on_event(struct evwatch *w, uint32_t revents);

static int source_arm(struct relay_source *s)
{
	int fd = s->mode == SOURCE_UNPOLLABLE ? s->kick_fd : s->fd;

	return evset_watch(s->set, &s->watch, fd, EPOLLIN, source_on_event);
}

static void source_finish(struct relay_source *s)
{
	evset_unwatch(s->set, &s->watch);
	s->done = true;
}

/* Passes the end of input on; keeps it when the channel is full. */
static void source_eof(struct relay_source *s)
{
	evset_unwatch(s->set, &s->watch);
	if (s->fn(s->opaque, NULL, 0) == -EAGAIN) {
		s->eof_held = true;
		s->paused = true;
		return;
	}
	source_finish(s);
}

static void source_on_event(struct evwatch *w, uint32_t revents)
{
	struct relay_source *s = evwatch_owner(w, struct relay_source, watch);
	uint8_t buf[RELAY_CHUNK];
	ssize_t n;

	(void)revents;
	if (s->paused || s->done)
		return;
	do {
		if (s->mode == SOURCE_RECV)
			n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		else
			n = read(s->fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		source_eof(s);
		return;
	}
	if (s->fn(s->opaque, buf, (size_t)n) != -EAGAIN)
		return;
	s->held = malloc((size_t)n);
	if (!s->held) {
		source_eof(s);	/* cannot keep it: end the input rather than lose a piece */
		return;
	}
	memcpy(s->held, buf, (size_t)n);
	s->held_len = (size_t)n;
	s->paused = true;
	evset_unwatch(s->set, &s->watch);
}

int relay_source_new(struct evset *set, int fd, bool own, relay_input_fn fn, void *opaque,
		     struct relay_source **out, novm_error_t *err)
{
	struct relay_source *s = calloc(1, sizeof(*s));
	struct stat st;
	int fl, ret;

	if (!s) {
		if (own)
			close(fd);
		return novm_error(err, ENOMEM, "input relay");
	}
	evwatch_init(&s->watch);
	s->set = set;
	s->fd = fd;
	s->extra_fd = s->kick_fd = -1;
	s->close_fd = own;
	s->fn = fn;
	s->opaque = opaque;
	/* A bad fd fails at source_arm() below. */
	bool known = fstat(fd, &st) == 0;
	if (known && S_ISSOCK(st.st_mode)) {
		s->mode = SOURCE_RECV;
	} else if (known && reopens_same(&st) &&
		   (fl = fcntl(fd, F_GETFL)) >= 0 && !(fl & O_NONBLOCK)) {
		int copy = reopen_nonblocking(fd, O_RDONLY);

		if (copy >= 0) {
			if (own)
				s->extra_fd = fd;
			s->fd = copy;
			s->close_fd = true;
		}
	}
	ret = source_arm(s);
	if (ret == -EPERM) {
		/* Not pollable, but reading it never waits on anyone. */
		s->mode = SOURCE_UNPOLLABLE;
		s->kick_fd = eventfd(1, EFD_CLOEXEC);
		ret = s->kick_fd < 0 ? -errno : source_arm(s);
	}
	if (ret < 0) {
		relay_source_free(s);
		return novm_error(err, -ret, "watch input fd %d", fd);
	}
	*out = s;
	return 0;
}

void relay_source_resume(struct relay_source *s)
{
	if (!s->paused || s->done)
		return;
	if (s->held) {
		if (s->fn(s->opaque, s->held, s->held_len) == -EAGAIN)
			return;
		free(s->held);
		s->held = NULL;
		s->held_len = 0;
	}
	if (s->eof_held) {
		if (s->fn(s->opaque, NULL, 0) == -EAGAIN)
			return;
		s->eof_held = false;
		s->paused = false;
		source_finish(s);
		return;
	}
	s->paused = false;
	if (source_arm(s) < 0)
		source_eof(s);
}

bool relay_source_paused(const struct relay_source *s)
{
	return s->paused;
}

void relay_source_free(struct relay_source *s)
{
	if (!s)
		return;
	evset_unwatch(s->set, &s->watch);
	if (s->close_fd)
		close_and_forget(&s->fd);
	close_and_forget(&s->extra_fd);
	close_and_forget(&s->kick_fd);
	free(s->held);
	free(s);
}
