/* The poll loop's side of the sessions: output relayed as frames, queued
 * stdin written, start errors collected, children reaped, exits reported
 * once the output is drained. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "link.h"
#include "session-internal.h"

static void add_poll(struct pollfd *fds, struct session_pollref *refs, size_t *n,
		     struct session *s, int fd, short events, int role)
{
	fds[*n] = (struct pollfd){ .fd = fd, .events = events };
	refs[*n] = (struct session_pollref){ .session = s, .role = role };
	(*n)++;
}

size_t sessions_fill_poll(struct session_table *t, struct pollfd *fds,
			  struct session_pollref *refs)
{
	size_t n = 0;

	for (size_t i = 0; i < t->len; i++) {
		struct session *s = t->items[i];
		short want_write = s->pending_len ? POLLOUT : 0;

		if (s->err_fd >= 0)
			add_poll(fds, refs, &n, s, s->err_fd, POLLIN, ROLE_ERRPIPE);
		/* A terminal's master carries both directions: one entry. */
		if (s->out_fd >= 0)
			add_poll(fds, refs, &n, s, s->out_fd,
				 POLLIN | (s->in_fd == s->out_fd ? want_write : 0), ROLE_STDOUT);
		if (s->errout_fd >= 0)
			add_poll(fds, refs, &n, s, s->errout_fd, POLLIN, ROLE_STDERR);
		if (s->in_fd >= 0 && s->in_fd != s->out_fd && want_write)
			add_poll(fds, refs, &n, s, s->in_fd, POLLOUT, ROLE_STDIN);
	}
	return n;
}

static int relay_output(struct session_table *t, struct session *s, int role,
			novm_error_t *err)
{
	static char buf[PROTO_MAX_PAYLOAD];
	int *fd = role == ROLE_STDERR ? &s->errout_fd : &s->out_fd;
	ssize_t r;

	do
		r = read(*fd, buf, sizeof(buf));
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return link_send(t->link, role == ROLE_STDERR ? PROTO_STDERR : PROTO_STDOUT, s->id,
				 buf, (size_t)r, err);
	if (r < 0 && errno == EAGAIN)
		return 0;
	/* EOF, or EIO from a terminal whose every slave is closed */
	if (s->in_fd == *fd)
		s->in_fd = -1;
	session_close_fd(fd);
	return 0;
}

static void collect_errmsg(struct session *s)
{
	ssize_t r;

	do {
		r = read(s->err_fd, s->errmsg + s->errmsg_len,
			 sizeof(s->errmsg) - 1 - s->errmsg_len);
	} while (r < 0 && errno == EINTR);
	if (r > 0) {
		s->errmsg_len += (size_t)r;
		if (s->errmsg_len < sizeof(s->errmsg) - 1)
			return;
	} else if (r < 0 && errno == EAGAIN) {
		return;
	}
	s->errmsg[s->errmsg_len] = '\0';
	session_close_fd(&s->err_fd);
}

static void flush_stdin(struct session *s)
{
	while (s->pending_len && s->in_fd >= 0) {
		ssize_t w = write(s->in_fd, s->pending, s->pending_len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			/* EPIPE: nobody reads any more; the rest is dropped */
			s->pending_len = 0;
			if (s->in_fd != s->out_fd)
				session_close_fd(&s->in_fd);
			break;
		}
		memmove(s->pending, s->pending + w, s->pending_len - (size_t)w);
		s->pending_len -= (size_t)w;
	}
	if (!s->pending_len && s->close_stdin && s->in_fd != s->out_fd)
		session_close_fd(&s->in_fd);
}

int sessions_handle(struct session_table *t, const struct pollfd *fds,
		    const struct session_pollref *refs, size_t n, novm_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		struct session *s = refs[i].session;
		short ev = fds[i].revents;

		if (!ev)
			continue;
		switch (refs[i].role) {
		case ROLE_ERRPIPE:
			if (s->err_fd >= 0)
				collect_errmsg(s);
			break;
		case ROLE_STDOUT:
		case ROLE_STDERR:
			if ((ev & POLLOUT) && s->in_fd == fds[i].fd)
				flush_stdin(s);
			if ((ev & (POLLIN | POLLHUP | POLLERR)) &&
			    relay_output(t, s, refs[i].role, err) < 0)
				return -1;
			break;
		case ROLE_STDIN:
			flush_stdin(s);
			break;
		}
	}
	return 0;
}

void sessions_reap(struct session_table *t)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < t->len; i++) {
			struct session *s = t->items[i];

			if (s->pid != pid || s->exited)
				continue;
			s->exited = true;
			s->wait_status = status;
			s->drain_deadline = session_now_ms() + SESSION_DRAIN_MS;
			/* Only other holders of the slave keep the master
			 * from reporting EIO once the output is read. */
			session_close_fd(&s->slave_fd);
			session_close_fd(&s->start_fd);
		}
	}
}

static bool session_over(const struct session *s, int64_t now)
{
	if (!s->exited || s->err_fd >= 0)
		return false;
	if (s->out_fd < 0 && s->errout_fd < 0)
		return true;
	return now >= s->drain_deadline;
}

/* What is still readable without waiting, before the exit is reported. */
static int drain(struct session_table *t, struct session *s, novm_error_t *err)
{
	for (int guard = 0; guard < 64 && (s->out_fd >= 0 || s->errout_fd >= 0); guard++) {
		struct pollfd fds[2];
		int n = 0;

		if (s->out_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = s->out_fd, .events = POLLIN };
		if (s->errout_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = s->errout_fd, .events = POLLIN };
		if (poll(fds, n, 0) <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (relay_output(t, s, fds[i].fd == s->out_fd ? ROLE_STDOUT : ROLE_STDERR,
					 err) < 0)
				return -1;
		}
	}
	return 0;
}

static int report_end(struct session_table *t, struct session *s, novm_error_t *err)
{
	struct proto_exit ex = { 0 };

	if (drain(t, s, err) < 0)
		return -1;
	if (s->errmsg_len &&
	    link_send(t->link, PROTO_ERROR, s->id, s->errmsg, s->errmsg_len, err) < 0)
		return -1;
	if (WIFSIGNALED(s->wait_status)) {
		ex.signal = (int32_t)htole32((uint32_t)WTERMSIG(s->wait_status));
		ex.status = (int32_t)htole32(128u + (uint32_t)WTERMSIG(s->wait_status));
	} else {
		ex.status = (int32_t)htole32((uint32_t)WEXITSTATUS(s->wait_status));
	}
	return link_send(t->link, PROTO_EXIT, s->id, &ex, sizeof(ex), err);
}

int sessions_finish(struct session_table *t, bool *init_exited, novm_error_t *err)
{
	int64_t now = session_now_ms();

	for (size_t i = 0; i < t->len;) {
		struct session *s = t->items[i];

		/* The exec succeeded when the error pipe closed without a word. */
		if (!s->started_sent && s->released && s->err_fd < 0 && !s->errmsg_len) {
			struct proto_started st = { .pid = (int32_t)htole32((uint32_t)s->pid) };

			s->started_sent = true;
			if (link_send(t->link, PROTO_STARTED, s->id, &st, sizeof(st), err) < 0)
				return -1;
		}
		if (!session_over(s, now)) {
			i++;
			continue;
		}
		if (report_end(t, s, err) < 0)
			return -1;
		if (s->id == 0)
			*init_exited = true;
		session_free(s);
		t->items[i] = t->items[--t->len];
	}
	return 0;
}

int sessions_poll_timeout(const struct session_table *t)
{
	int64_t now = session_now_ms(), best = -1;

	for (size_t i = 0; i < t->len; i++) {
		const struct session *s = t->items[i];
		int64_t left;

		if (!s->exited)
			continue;
		left = s->drain_deadline > now ? s->drain_deadline - now : 0;
		if (best < 0 || left < best)
			best = left;
	}
	return (int)best;
}
