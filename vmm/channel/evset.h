/* A private epoll set nested in the I/O loop, for sources that come and go
 * (control connections, exec sessions' stdio):
 *  - readiness for writing as well as reading (the I/O loop only does input);
 *  - objects that own watches are freed only once every event of the
 *    current round was handled, so an event already fetched for a watch
 *    that another callback removed is skipped instead of reaching freed
 *    memory.
 * Everything runs on the I/O loop thread. */
#ifndef NOVM_EVSET_H
#define NOVM_EVSET_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "ioloop.h"

struct evset;
struct evwatch;

/* revents: EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR, EPOLLRDHUP bits. */
typedef void (*evwatch_fn)(struct evwatch *w, uint32_t revents);

/* Embedded in the object it belongs to; container_of() gets it back. */
struct evwatch {
	evwatch_fn fn;
	int fd;		/* -1 while not in the set */
	uint32_t events;
};

#define evwatch_owner(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

/* Creates the set and registers it with the loop (before or after the
 * loop thread started). */
int evset_new(struct ioloop *loop, struct evset **out, novm_error_t *err);
/* Unregisters and frees the set; the loop thread must be stopped or this
 * must run on it.  Watches still in the set are simply forgotten. */
void evset_free(struct evset *set);

/* Starts watching fd for `events` (EPOLLIN, EPOLLOUT, EPOLLRDHUP; hang-up
 * and errors are always reported), or changes the events of a watch
 * already in the set.  Returns 0 or -errno (-EPERM: fd cannot be polled,
 * e.g. a regular file). */
int evset_watch(struct evset *set, struct evwatch *w, int fd, uint32_t events, evwatch_fn fn);
/* Stops watching; pending events of this round are dropped.  Call before
 * closing the fd. */
void evset_unwatch(struct evset *set, struct evwatch *w);

static inline void evwatch_init(struct evwatch *w)
{
	w->fn = NULL;
	w->fd = -1;
	w->events = 0;
}

static inline bool evwatch_active(const struct evwatch *w)
{
	return w->fd >= 0;
}

/* Frees obj with release(obj) once the current round is over (at once
 * outside a round).  The object's watches must be unwatched already. */
int evset_free_later(struct evset *set, void (*release)(void *obj), void *obj);

/* Handles one round of events now (what the loop callback does); tests
 * without a loop thread call it directly.  Returns the number handled. */
int evset_dispatch(struct evset *set);

/* The epoll fd, for tests that want to poll() it. */
int evset_fd(const struct evset *set);

#endif
