#include "evset.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVSET_ROUND 32

struct deferred {
	void (*release)(void *obj);
	void *obj;
};

struct evset {
	int epoll_fd;
	struct ioloop *loop;
	bool registered;
	bool in_round;
	struct deferred *deferred;
	size_t nr_deferred, cap_deferred;
};

static void run_deferred(struct evset *set)
{
	/* A release may defer more (it is outside the round by now, so those
	 * run at once); walk by index since the array may not grow here. */
	for (size_t i = 0; i < set->nr_deferred; i++)
		set->deferred[i].release(set->deferred[i].obj);
	set->nr_deferred = 0;
}

int evset_dispatch(struct evset *set)
{
	struct epoll_event events[EVSET_ROUND];
	int n;

	if (set->in_round)
		return 0;	/* not re-entrant: the outer round will come back */
	do
		n = epoll_wait(set->epoll_fd, events, EVSET_ROUND, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	set->in_round = true;
	for (int i = 0; i < n; i++) {
		struct evwatch *w = events[i].data.ptr;

		/* Removed earlier in this round: its object may be on the
		 * deferred list, still valid, but the event is stale. */
		if (w->fd < 0 || !w->fn)
			continue;
		w->fn(w, events[i].events);
	}
	set->in_round = false;
	run_deferred(set);
	return n;
}

static void on_ready(void *opaque)
{
	evset_dispatch(opaque);
}

int evset_new(struct ioloop *loop, struct evset **out, novm_error_t *err)
{
	struct evset *set = calloc(1, sizeof(*set));
	int ret;

	if (!set)
		return novm_error(err, ENOMEM, "event set");
	set->loop = loop;
	set->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (set->epoll_fd < 0) {
		ret = errno;
		free(set);
		return novm_error(err, ret, "epoll_create1");
	}
	if (loop) {
		ret = ioloop_add(loop, set->epoll_fd, on_ready, set);
		if (ret < 0) {
			close(set->epoll_fd);
			free(set);
			return novm_error(err, -ret, "register an event set with the I/O loop");
		}
		set->registered = true;
	}
	*out = set;
	return 0;
}

void evset_free(struct evset *set)
{
	if (!set)
		return;
	run_deferred(set);
	if (set->registered)
		ioloop_remove(set->loop, set->epoll_fd);
	close(set->epoll_fd);
	free(set->deferred);
	free(set);
}

int evset_watch(struct evset *set, struct evwatch *w, int fd, uint32_t events, evwatch_fn fn)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (fd < 0)
		return -EBADF;
	if (w->fd >= 0 && w->fd != fd)
		evset_unwatch(set, w);
	if (w->fd == fd) {
		if (epoll_ctl(set->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
			return -errno;
	} else if (epoll_ctl(set->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		return -errno;
	}
	w->fd = fd;
	w->fn = fn;
	w->events = events;
	return 0;
}

void evset_unwatch(struct evset *set, struct evwatch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(set->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	w->events = 0;
}

int evset_free_later(struct evset *set, void (*release)(void *obj), void *obj)
{
	if (!set->in_round) {
		release(obj);
		return 0;
	}
	if (set->nr_deferred == set->cap_deferred) {
		size_t cap = set->cap_deferred ? 2 * set->cap_deferred : 8;
		struct deferred *grown = realloc(set->deferred, cap * sizeof(*grown));

		/* Leaking one object beats freeing it under a stale event. */
		if (!grown)
			return -ENOMEM;
		set->deferred = grown;
		set->cap_deferred = cap;
	}
	set->deferred[set->nr_deferred++] = (struct deferred){ release, obj };
	return 0;
}

int evset_fd(const struct evset *set)
{
	return set->epoll_fd;
}
