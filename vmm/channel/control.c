/* The control socket server: the listening socket, connections, their
 * reading and writing.  What requests do is in control-request.c and
 * control-pod.c.  All on the I/O loop thread. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "control-internal.h"
#include "log.h"
#include "unixsock.h"

#define ACCEPTS_PER_ROUND 16
/* How long the listener rests when the VMM is out of descriptors: a level-
 * triggered listener whose accept() fails would spin the I/O loop, and
 * clients keep waiting in the backlog (their requests time out later). */
#define ACCEPT_BACKOFF_MS 100

static void conn_update(struct conn *c);

/* ---- connections ---- */

static void close_passed_fds(struct conn *c)
{
	for (int i = 0; i < c->nr_fds; i++)
		close(c->fds[i]);
	c->nr_fds = 0;
}

static void conn_release(void *obj)
{
	struct conn *c = obj;

	free(c->body);
	free(c->out);
	free(c);
}

/* Ends the connection; the backend forgets it first, so no callback can
 * reach it afterwards. */
static void conn_close(struct conn *c)
{
	struct control *ctl = c->ctl;

	if (c->fd < 0)
		return;
	if (c->wait == WAIT_START && c->target)
		ctl->ops->container_start_forget(ctl->backend, c->target);
	else if (c->wait == WAIT_START)
		ctl->ops->start_forget(ctl->backend);
	else if (c->wait == WAIT_QUERY)
		ctl->ops->query_forget(ctl->backend, c->id);
	if (c->has_session)
		ctl->ops->session_forget(ctl->backend, c->id);
	c->wait = WAIT_NONE;
	c->has_session = false;
	close_passed_fds(c);
	evset_unwatch(ctl->events, &c->watch);
	close(c->fd);
	c->fd = -1;
	for (struct conn **p = &ctl->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	ctl->nr_conns--;
	if (evset_free_later(ctl->events, conn_release, c) < 0)
		return;	/* leaked rather than freed under a stale event */
}

/* Sends what the client takes now; the rest waits for EPOLLOUT. */
static void conn_flush(struct conn *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(c);	/* the client is gone */
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	if (c->state == CONN_CLOSING && !c->out_len)
		conn_close(c);
	else
		conn_update(c);
}

void conn_send(struct conn *c, const char *data, size_t len)
{
	char *grown;

	if (c->fd < 0)
		return;
	/* A client that reads nothing cannot make us hold more than this. */
	if (c->out_len + len > 2 * CONTROL_MAX_ANSWER) {
		conn_close(c);
		return;
	}
	grown = realloc(c->out, c->out_len + len);
	if (!grown) {
		conn_close(c);
		return;
	}
	c->out = grown;
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	conn_flush(c);
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	char line[CONTROL_MAX_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* Messages may come from the guest: one line, whatever they hold. */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	conn_send(c, line, (size_t)n);
}

void conn_finish(struct conn *c, const char *fmt, ...)
{
	char line[CONTROL_MAX_LINE];
	va_list ap;

	if (c->fd < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->state = CONN_CLOSING;
	c->wait = WAIT_NONE;
	conn_printf(c, "%s", line);
}

void conn_fail(struct conn *c, novm_error_t *err)
{
	conn_finish(c, CONTROL_ANS_ERROR " %s", *err && (*err)->msg ? (*err)->msg : "unknown error");
	novm_error_release(err);
}

/* Works through the buffered input as far as the state allows. */
static void process_input(struct conn *c)
{
	char line[CONTROL_MAX_LINE];

	while (c->fd >= 0) {
		if (c->state == CONN_BODY) {
			size_t take = c->body_want - c->body_len;

			if (take > c->in_len)
				take = c->in_len;
			memcpy(c->body + c->body_len, c->in, take);
			memmove(c->in, c->in + take, c->in_len - take);
			c->in_len -= take;
			c->body_len += take;
			if (c->body_len < c->body_want)
				return;
			control_run_body(c);
			continue;
		}
		if (c->state != CONN_REQUEST && c->state != CONN_SESSION)
			return;
		int r = control_take_line(c->in, &c->in_len, line);
		if (r == 0)
			return;
		if (r < 0) {
			conn_finish(c, CONTROL_ANS_ERROR " malformed request line");
			return;
		}
		if (c->state == CONN_REQUEST)
			control_handle_request(c, line);
		else
			control_handle_session_line(c, line);
	}
}

static bool wants_input(const struct conn *c)
{
	return !c->read_eof &&
	       (c->state == CONN_REQUEST || c->state == CONN_BODY || c->state == CONN_SESSION);
}

static void conn_read(struct conn *c)
{
	/* The body bypasses the line buffer when it is large. */
	ssize_t n = control_recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, c->fds,
				 (int)ARRAY_SIZE(c->fds), &c->nr_fds);

	if (n == -EAGAIN)
		return;
	if (n < 0) {
		conn_finish(c, CONTROL_ANS_ERROR " %s", n == -EPROTO ? "too many fds" : strerror((int)-n));
		return;
	}
	if (n == 0) {
		/* Half-closed: a request can no longer complete, but a session
		 * client may still wait for its exit line. */
		c->read_eof = true;
		if (c->state != CONN_SESSION) {
			conn_close(c);
			return;
		}
		conn_update(c);
		return;
	}
	if (c->state == CONN_SESSION && c->nr_fds) {
		conn_finish(c, CONTROL_ANS_ERROR " fds are only taken with the request line");
		return;
	}
	c->in_len += (size_t)n;
	process_input(c);
}

static void conn_on_event(struct evwatch *w, uint32_t revents)
{
	struct conn *c = evwatch_owner(w, struct conn, watch);

	if ((revents & EPOLLIN) && wants_input(c))
		conn_read(c);
	if (c->fd >= 0 && (revents & EPOLLOUT))
		conn_flush(c);
	/* EPOLLHUP comes only once the client closed both directions. */
	if (c->fd >= 0 && (revents & (EPOLLHUP | EPOLLERR)))
		conn_close(c);
}

static void conn_update(struct conn *c)
{
	uint32_t events = (wants_input(c) && c->in_len < sizeof(c->in) ? EPOLLIN : 0) |
			  (c->out_len ? EPOLLOUT : 0);

	if (c->fd < 0)
		return;
	if (events != c->watch.events || !evwatch_active(&c->watch))
		if (evset_watch(c->ctl->events, &c->watch, c->fd, events, conn_on_event) < 0)
			conn_close(c);
}

/* ---- the listening socket ---- */

static void on_accept(struct evwatch *w, uint32_t revents);

static void on_backoff_over(struct evwatch *w, uint32_t revents)
{
	struct control *ctl = evwatch_owner(w, struct control, backoff_watch);
	uint64_t expirations;

	(void)revents;
	if (read(ctl->backoff_fd, &expirations, sizeof(expirations)) < 0) {
		/* a spurious wake-up: it is disarmed either way */
	}
	evset_unwatch(ctl->events, &ctl->backoff_watch);
	if (evset_watch(ctl->events, &ctl->listen_watch, ctl->listen_fd, EPOLLIN, on_accept) < 0)
		log_msg(LOG_LEVEL_ERROR, "control socket: cannot watch it again; requests go unanswered");
}

/* accept() failed for want of descriptors (or memory for the socket):
 * rest the listener for a while instead of failing again at once. */
static void accept_backoff(struct control *ctl, int error)
{
	struct itimerspec its = { .it_value = { .tv_nsec = ACCEPT_BACKOFF_MS * 1000000L } };

	if (!ctl->backoff_logged) {
		log_msg(LOG_LEVEL_WARNING,
			"control socket: cannot accept: %s; retrying every %d ms", strerror(error),
			ACCEPT_BACKOFF_MS);
		ctl->backoff_logged = true;
	}
	evset_unwatch(ctl->events, &ctl->listen_watch);
	if (timerfd_settime(ctl->backoff_fd, 0, &its, NULL) < 0 ||
	    evset_watch(ctl->events, &ctl->backoff_watch, ctl->backoff_fd, EPOLLIN,
			on_backoff_over) < 0)
		/* Listening again at once beats never listening again. */
		on_backoff_over(&ctl->backoff_watch, 0);
}

static void on_accept(struct evwatch *w, uint32_t revents)
{
	struct control *ctl = evwatch_owner(w, struct control, listen_watch);

	(void)revents;
	for (int i = 0; i < ACCEPTS_PER_ROUND; i++) {
		int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			       errno == ENOMEM)) {
			accept_backoff(ctl, errno);
			return;
		}
		if (fd < 0)
			return;	/* EAGAIN, or an error the next round retries */
		ctl->backoff_logged = false;
		if (ctl->nr_conns >= CONTROL_MAX_CONNECTIONS || !(c = calloc(1, sizeof(*c)))) {
			static const char busy[] = CONTROL_ANS_ERROR " too many connections\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				/* nothing more to say to it */
			}
			close(fd);
			continue;
		}
		c->ctl = ctl;
		c->fd = fd;
		evwatch_init(&c->watch);
		c->next = ctl->conns;
		ctl->conns = c;
		ctl->nr_conns++;
		conn_update(c);
	}
}

int control_new(struct ioloop *loop, const char *path, const struct control_backend_ops *ops,
		void *backend, struct control **out, novm_error_t *err)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	struct stat st;
	int ret;

	if (!ctl || !(ctl->path = strdup(path))) {
		free(ctl);
		return novm_error(err, ENOMEM, "control socket");
	}
	ctl->listen_fd = -1;
	ctl->ops = ops;
	ctl->backend = backend;
	evwatch_init(&ctl->listen_watch);
	evwatch_init(&ctl->backoff_watch);
	ctl->backoff_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl->backoff_fd < 0) {
		novm_error(err, errno, "control socket: timerfd");
		free(ctl->path);
		free(ctl);
		return -1;
	}
	/* A socket left behind by a VMM that died is in the way of bind(). */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			novm_error(err, EEXIST, "control socket `%s`", path);
			goto fail;
		}
		unlink(path);
	}
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0) {
		novm_error(err, errno, "control socket");
		goto fail;
	}
	/* Only root (the runtime) talks to the VMM: 0600 from the start. */
	mode_t old = umask(0177);
	ret = unix_bind(ctl->listen_fd, path);
	if (ret < 0)
		novm_error(err, errno, "bind `%s`", path);
	umask(old);
	if (ret < 0)
		goto fail;
	if (listen(ctl->listen_fd, 16) < 0) {
		novm_error(err, errno, "listen `%s`", path);
		goto fail_unlink;
	}
	if (evset_new(loop, &ctl->events, err) < 0)
		goto fail_unlink;
	ret = evset_watch(ctl->events, &ctl->listen_watch, ctl->listen_fd, EPOLLIN, on_accept);
	if (ret < 0) {
		novm_error(err, -ret, "watch `%s`", path);
		goto fail_unlink;
	}
	*out = ctl;
	return 0;
fail_unlink:
	unlink(path);
fail:
	evset_free(ctl->events);
	if (ctl->listen_fd >= 0)
		close(ctl->listen_fd);
	close(ctl->backoff_fd);
	free(ctl->path);
	free(ctl);
	return -1;
}

/* One last try to tell a client something, without waiting. */
static void conn_last_words(struct conn *c, const char *line)
{
	if (c->out_len && send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
				  (ssize_t)c->out_len)
		return;
	if (line && send(c->fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* it is gone: nothing more to do */
	}
}

void control_free(struct control *ctl)
{
	struct conn *c;

	if (!ctl)
		return;
	evset_unwatch(ctl->events, &ctl->listen_watch);
	evset_unwatch(ctl->events, &ctl->backoff_watch);
	close(ctl->listen_fd);
	close(ctl->backoff_fd);
	unlink(ctl->path);
	/* Waiting clients hear why nothing more comes. */
	while ((c = ctl->conns)) {
		if (c->state == CONN_CLOSING)
			conn_last_words(c, NULL);
		else if (c->has_session && c->started)
			conn_last_words(c, CONTROL_ANS_EXIT " 137 9\n");
		else
			conn_last_words(c, CONTROL_ANS_ERROR " the container VM stopped\n");
		conn_close(c);
	}
	evset_free(ctl->events);
	free(ctl->path);
	free(ctl);
}

int control_dispatch(struct control *ctl)
{
	return evset_dispatch(ctl->events);
}
