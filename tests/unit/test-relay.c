/* The stdio relays of exec sessions without KVM: sinks and sources on pipes,
 * regular files and a pty, in an event set with no I/O loop behind it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/channel/evset.h"
#include "vmm/channel/relay.h"

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct input_log {
	char data[1 << 16];
	size_t len;
	int eofs;
	bool refuse;
};

static int take_input(void *opaque, const uint8_t *data, size_t len)
{
	struct input_log *log = opaque;

	if (log->refuse)
		return -EAGAIN;
	if (!len)
		log->eofs++;
	if (len && log->len + len <= sizeof(log->data)) {
		memcpy(log->data + log->len, data, len);
		log->len += len;
	}
	return 0;
}

static void dispatch_for(struct evset *set, int ms)
{
	int64_t end = ms_now() + ms;

	while (ms_now() < end) {
		struct pollfd p = { .fd = evset_fd(set), .events = POLLIN };

		if (poll(&p, 1, 10) > 0)
			evset_dispatch(set);
	}
}

static void test_relays(void)
{
	struct evset *set;
	struct relay_sink *sink;
	struct relay_source *src;
	struct input_log log = { 0 };
	novm_error_t err = NULL;
	int p[2];
	char buf[70000];

	ok(evset_new(NULL, &set, &err) == 0, "event set without a loop");

	/* A sink on a blocking pipe leaves the pipe's own flags alone and
	 * queues what does not fit instead of blocking. */
	pipe(p);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	relay_sink_new(set, p[1], false, &sink, &err);
	memset(buf, 'o', sizeof(buf));
	int64_t t0 = ms_now();
	size_t dropped = relay_sink_write(sink, buf, sizeof(buf));
	ok(dropped == 0 && ms_now() - t0 < 200 && relay_sink_backlog(sink) > 0,
	   "a full pipe: queued (%zu bytes), not blocked", relay_sink_backlog(sink));
	ok(!(fcntl(p[1], F_GETFL) & O_NONBLOCK), "the caller's fd stays blocking");
	size_t got = 0;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 1000 && got < sizeof(buf); i++) {
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n > 0)
			got += (size_t)n;
		evset_dispatch(set);
	}
	ok(got == sizeof(buf) && relay_sink_backlog(sink) == 0, "the backlog drains as the reader reads");
	relay_sink_free(sink);
	ok(fd_open(p[1]), "a borrowed fd is not closed");

	/* A reader that never reads: one bounded wait, then output is dropped
	 * instead of hanging the loop. */
	relay_sink_new(set, p[1], true, &sink, &err);
	static char chunk[65536];
	size_t total_dropped = 0;
	t0 = ms_now();
	for (int i = 0; i < 80; i++)
		total_dropped += relay_sink_write(sink, chunk, sizeof(chunk));
	int64_t took = ms_now() - t0;
	ok(total_dropped > 0 && relay_sink_backlog(sink) <= RELAY_SINK_MAX,
	   "stuck reader: %zu bytes dropped, backlog %zu bounded", total_dropped,
	   relay_sink_backlog(sink));
	ok(took >= RELAY_STALL_MS - 50 && took < 3 * RELAY_STALL_MS, "one stall of ~%d ms (%lld ms)",
	   RELAY_STALL_MS, (long long)took);
	close(p[0]);
	relay_sink_write(sink, "x", 1);
	evset_dispatch(set);
	ok(relay_sink_broken(sink), "the reader is gone: the sink breaks (no SIGPIPE death)");
	relay_sink_free(sink);

	/* Sources: a pipe, held chunks, EOF. */
	pipe(p);
	ok(relay_source_new(set, p[0], true, take_input, &log, &src, &err) == 0, "source on a pipe");
	write(p[1], "hello ", 6);
	dispatch_for(set, 50);
	log.refuse = true;
	write(p[1], "world", 5);
	dispatch_for(set, 50);
	ok(log.len == 6 && relay_source_paused(src), "a refused chunk pauses the source");
	log.refuse = false;
	relay_source_resume(src);
	close(p[1]);
	dispatch_for(set, 50);
	ok(log.len == 11 && memcmp(log.data, "hello world", 11) == 0 && log.eofs == 1,
	   "resumed: the held chunk, then EOF once");
	relay_source_free(src);

	/* A regular file cannot be polled: read whenever, to its end. */
	char path[] = "/tmp/novm-test-relay-XXXXXX";
	int file = mkstemp(path);
	unlink(path);
	for (int i = 0; i < 100; i++)
		write(file, "0123456789", 10);
	lseek(file, 0, SEEK_SET);
	memset(&log, 0, sizeof(log));
	ok(relay_source_new(set, file, true, take_input, &log, &src, &err) == 0,
	   "source on a regular file");
	dispatch_for(set, 50);
	ok(log.len == 1000 && log.eofs == 1, "regular file read whole, then EOF (%zu)", log.len);
	relay_source_free(src);

	/* A pty master is not reopened (that would make a new pty). */
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(master);
	unlockpt(master);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	relay_sink_new(set, master, false, &sink, &err);
	relay_sink_write(sink, "via-master\n", 11);
	char tbuf[32] = "";
	struct pollfd tp = { .fd = slave, .events = POLLIN };
	ssize_t tn = poll(&tp, 1, 1000) > 0 ? read(slave, tbuf, sizeof(tbuf) - 1) : -1;
	ok(tn == 11 && memcmp(tbuf, "via-master\n", 11) == 0, "a sink on a pty master reaches its slave");
	relay_sink_free(sink);
	close(slave);
	close(master);

	/* stdout and stderr on one terminal/pipe: one sink keeps the order. */
	pipe(p);
	int dup_fd = dup(p[1]);
	ok(relay_same_file(p[1], dup_fd) && !relay_same_file(p[0], p[1]), "same open file detected");
	close(dup_fd);
	close(p[0]);
	close(p[1]);
	evset_free(set);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);	/* as the VMM does while it runs */
	test_relays();
	return tap_done();
}
