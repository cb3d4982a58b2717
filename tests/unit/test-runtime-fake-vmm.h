/* A stand-in for a VMM's control socket (vmm/channel/control.h) for
 * novm-runc's tests: a thread answers each request with what the test's reply()
 * says, records the requests, and plays an exec session: it takes the
 * three fds and the process JSON, writes "hello\n" to the session's
 * stdout, answers "ok 7", and ends the process ("exit 3 0") when the
 * client forwards a signal.  Pods: "in <n> exec" is an exec session too;
 * a "container" session is answered "ok 7 5" and kept while other
 * requests are served, until an "in <n> kill" ends it ("exit 3 0"); the
 * fds passed with other requests (graft) are kept for the test to look
 * at.  The nics request: it keeps the fds and the network document, then
 * answers what reply() says. */
#ifndef NOVM_TEST_RUNTIME_FAKE_VMM_H
#define NOVM_TEST_RUNTIME_FAKE_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FAKE_MAX_REQUESTS 64

struct fake_vmm {
	int listen_fd;
	pthread_t thread;
	pthread_mutex_t lock;
	/* The answer line for a request (no newline), NULL: hang up. */
	const char *(*reply)(const char *request);
	char requests[FAKE_MAX_REQUESTS][256];
	int n_requests;
	int exec_nfds;
	char exec_json[4096];
	char session_lines[8][64];
	int n_session_lines;
	int container_conn;	/* the pod container's session, or -1 */
	int passed_fds[8];	/* with other requests, in order */
	int n_passed_fds;
	char nics_json[4096];
	int nics_fds[3];	/* the test closes them */
	int nics_nfds;
};

static void fake_record(struct fake_vmm *f, const char *line)
{
	pthread_mutex_lock(&f->lock);
	if (f->n_requests < FAKE_MAX_REQUESTS)
		snprintf(f->requests[f->n_requests++], sizeof(f->requests[0]), "%.255s", line);
	pthread_mutex_unlock(&f->lock);
}

/* The last request, "" if none. */
static inline const char *fake_last(struct fake_vmm *f)
{
	static char copy[256];
	pthread_mutex_lock(&f->lock);
	snprintf(copy, sizeof(copy), "%s", f->n_requests ? f->requests[f->n_requests - 1] : "");
	pthread_mutex_unlock(&f->lock);
	return copy;
}

/* Reads one line; the first recvmsg may carry fds. */
static int fake_read_line(int fd, char *line, size_t cap, int *fds, int *nfds)
{
	size_t len = 0;

	while (len < cap - 1) {
		union {
			char buf[CMSG_SPACE(3 * sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { line + len, 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(fd, &msg, 0);
		if (n <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_type == SCM_RIGHTS && fds) {
				*nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				memcpy(fds, CMSG_DATA(c), *nfds * sizeof(int));
			}
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	return 0;
}

/* The body after a "<verb> <len>" line, NUL-terminated, cut to cap - 1. */
static void fake_read_body(int conn, const char *request, char *body, size_t cap)
{
	const char *exec = strstr(request, "exec ");	/* "in <n> exec <len>" too */
	const char *sp = exec ? exec + 4 : strchr(request, ' ');
	size_t len = sp ? strtoul(sp + 1, NULL, 10) : 0, got = 0;

	while (got < len && got < cap - 1) {
		ssize_t n = read(conn, body + got, len - got < cap - 1 - got ? len - got : cap - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	body[got] = '\0';
}

static void fake_exec(struct fake_vmm *f, int conn, const char *request, const int *fds, int nfds)
{
	char line[64];
	bool container = !strncmp(request, "container ", 10);

	fake_read_body(conn, request, f->exec_json, sizeof(f->exec_json));
	f->exec_nfds = nfds;
	if (nfds == 3) {
		if (write(fds[1], "hello\n", 6) != 6)
			perror("fake exec stdout");
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (container) {
		if (write(conn, "ok 7 5\n", 7) != 7)
			perror("fake container");
		f->container_conn = dup(conn);
		return;
	}
	if (write(conn, "ok 7\n", 5) != 5)
		return;
	while (fake_read_line(conn, line, sizeof(line), NULL, NULL) == 0) {
		if (f->n_session_lines < 8)
			snprintf(f->session_lines[f->n_session_lines++], sizeof(line), "%s", line);
		if (!strncmp(line, "signal ", 7)) {
			if (write(conn, "exit 3 0\n", 9) != 9)
				perror("fake exec exit");
			break;
		}
	}
}

static void *fake_serve(void *opaque)
{
	struct fake_vmm *f = opaque;

	for (;;) {
		int conn = accept(f->listen_fd, NULL, NULL);
		if (conn < 0)
			return NULL;
		char line[4096];
		int fds[3], nfds = 0;
		if (fake_read_line(conn, line, sizeof(line), fds, &nfds) == 0) {
			fake_record(f, line);
			if (!strncmp(line, "exec ", 5) || !strncmp(line, "container ", 10) ||
			    (!strncmp(line, "in ", 3) && strstr(line, " exec "))) {
				fake_exec(f, conn, line, fds, nfds);
			} else {
				if (!strncmp(line, "nics ", 5)) {
					pthread_mutex_lock(&f->lock);
					fake_read_body(conn, line, f->nics_json, sizeof(f->nics_json));
					memcpy(f->nics_fds, fds, sizeof(fds));
					f->nics_nfds = nfds;
					pthread_mutex_unlock(&f->lock);
				} else {
					for (int i = 0; i < nfds; i++)
						if (f->n_passed_fds < 8)
							f->passed_fds[f->n_passed_fds++] = fds[i];
						else
							close(fds[i]);
				}
				if (!strncmp(line, "in ", 3) && strstr(line, " kill ") && f->container_conn >= 0) {
					if (write(f->container_conn, "exit 3 0\n", 9) != 9)
						perror("fake container exit");
					close(f->container_conn);
					f->container_conn = -1;
				}
				const char *answer = f->reply ? f->reply(line) : "ok";
				if (answer) {
					char *out = NULL;
					int n = asprintf(&out, "%s\n", answer);
					if (n > 0 && write(conn, out, n) != n)
						perror("fake reply");
					free(out);
				}
			}
		}
		close(conn);
	}
}

/* Listens on <dir>/control.sock. */
static inline int fake_vmm_start(struct fake_vmm *f, const char *dir, const char *(*reply)(const char *))
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->reply = reply;
	f->container_conn = -1;
	pthread_mutex_init(&f->lock, NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", dir);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->listen_fd, 16) < 0)
		return -1;
	return pthread_create(&f->thread, NULL, fake_serve, f) ? -1 : 0;
}

static inline void fake_vmm_stop(struct fake_vmm *f)
{
	shutdown(f->listen_fd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	if (f->container_conn >= 0)
		close(f->container_conn);
	for (int i = 0; i < f->n_passed_fds; i++)
		close(f->passed_fds[i]);
}

#endif
