/* One epoll thread for device event sources (ioeventfds, host fds), so
 * vCPU threads only ever return to the guest quickly. */
#ifndef NOVM_IOLOOP_H
#define NOVM_IOLOOP_H

#include <pthread.h>
#include <stdbool.h>

#include "error.h"

typedef void (*ioloop_fn)(void *opaque);

struct ioloop_source;

struct ioloop {
	int epoll_fd;
	int stop_fd;	/* eventfd that ends the thread */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;	/* guards sources: adds come from vCPU threads too */
	struct ioloop_source *sources;
};

int ioloop_init(struct ioloop *loop, novm_error_t *err);
/* Calls fn(opaque) in the loop thread whenever fd is readable.  The
 * callback must consume the readiness (e.g. read the eventfd). */
int ioloop_add(struct ioloop *loop, int fd, ioloop_fn fn, void *opaque);
/* The same, edge-triggered: fn runs when fd becomes readable again, not
 * while it stays readable.  For a source the callback may leave unread
 * (no room for the data yet) and come back to by itself. */
int ioloop_add_edge(struct ioloop *loop, int fd, ioloop_fn fn, void *opaque);
int ioloop_remove(struct ioloop *loop, int fd);
int ioloop_start(struct ioloop *loop, novm_error_t *err);
void ioloop_stop(struct ioloop *loop);	/* joins the thread and closes fds */

#endif
