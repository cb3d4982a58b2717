#include "ioloop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* What an epoll event carries.  A record may still be in flight in the
 * loop thread after its fd was removed, so records live until the loop
 * stops; one record per (fn, opaque) pair, reused when the same pair comes
 * back (a vector relayed again after an unmask, a NIC's tap after a reset),
 * keeps what a guest toggling its devices costs bounded by the devices. */
struct ioloop_source {
	ioloop_fn fn;
	void *opaque;
	struct ioloop_source *next;
};

int ioloop_init(struct ioloop *loop, novm_error_t *err)
{
	loop->running = false;
	loop->sources = NULL;
	pthread_mutex_init(&loop->lock, NULL);
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		return novm_error(err, errno, "epoll_create1");
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->stop_fd < 0) {
		close(loop->epoll_fd);
		return novm_error(err, errno, "eventfd");
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->stop_fd, &ev) < 0) {
		int e = errno;
		close(loop->stop_fd);
		close(loop->epoll_fd);
		return novm_error(err, e, "epoll_ctl");
	}
	return 0;
}

static struct ioloop_source *source_for(struct ioloop *loop, ioloop_fn fn, void *opaque)
{
	struct ioloop_source *src;

	pthread_mutex_lock(&loop->lock);
	for (src = loop->sources; src; src = src->next)
		if (src->fn == fn && src->opaque == opaque)
			break;
	if (!src && (src = malloc(sizeof(*src)))) {
		src->fn = fn;
		src->opaque = opaque;
		src->next = loop->sources;
		loop->sources = src;
	}
	pthread_mutex_unlock(&loop->lock);
	return src;
}

static int add_source(struct ioloop *loop, int fd, ioloop_fn fn, void *opaque, uint32_t events)
{
	struct ioloop_source *src = source_for(loop, fn, opaque);
	if (!src)
		return -ENOMEM;
	struct epoll_event ev = { .events = events, .data.ptr = src };
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int ioloop_add(struct ioloop *loop, int fd, ioloop_fn fn, void *opaque)
{
	return add_source(loop, fd, fn, opaque, EPOLLIN);
}

int ioloop_add_edge(struct ioloop *loop, int fd, ioloop_fn fn, void *opaque)
{
	return add_source(loop, fd, fn, opaque, EPOLLIN | EPOLLET);
}

int ioloop_remove(struct ioloop *loop, int fd)
{
	/* The record stays (see struct ioloop_source). */
	return epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

static void *ioloop_thread(void *arg)
{
	struct ioloop *loop = arg;
	struct epoll_event events[32];

	for (;;) {
		int n = epoll_wait(loop->epoll_fd, events, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct ioloop_source *src = events[i].data.ptr;
			if (!src)
				return NULL;
			src->fn(src->opaque);
		}
	}
	return NULL;
}

int ioloop_start(struct ioloop *loop, novm_error_t *err)
{
	int ret = pthread_create(&loop->thread, NULL, ioloop_thread, loop);
	if (ret)
		return novm_error(err, ret, "start I/O thread");
	loop->running = true;
	return 0;
}

void ioloop_stop(struct ioloop *loop)
{
	uint64_t one = 1;
	if (loop->running) {
		if (write(loop->stop_fd, &one, sizeof(one)) < 0)
			pthread_cancel(loop->thread);
		pthread_join(loop->thread, NULL);
		loop->running = false;
	}
	close(loop->stop_fd);
	close(loop->epoll_fd);
	/* Late removals (devices torn down after the loop) fail cleanly
	 * instead of reaching a reused fd number. */
	loop->stop_fd = loop->epoll_fd = -1;
	while (loop->sources) {
		struct ioloop_source *next = loop->sources->next;
		free(loop->sources);
		loop->sources = next;
	}
}
