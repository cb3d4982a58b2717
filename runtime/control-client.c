#include "control-client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdpass.h"
#include "log.h"
#include "unixsock.h"
#include "util.h"

int ctl_socket_path(const char *dir, int dir_fd, char **path, novm_error_t *err)
{
	struct sockaddr_un sa;
	int n;

	n = asprintf(path, "%s/" CONTROL_SOCKET_NAME, dir);
	if (n < 0)
		return novm_error(err, ENOMEM, "control socket path");
	if ((size_t)n < sizeof(sa.sun_path))
		return 0;
	free(*path);
	*path = NULL;
	if (dir_fd < 0)
		return novm_error(err, ENAMETOOLONG, "control socket in `%s`", dir);
	if (asprintf(path, "/proc/self/fd/%d/" CONTROL_SOCKET_NAME, dir_fd) < 0)
		return novm_error(err, ENOMEM, "control socket path");
	return 0;
}

int ctl_connect(const char *dir, int *out, novm_error_t *err)
{
	cleanup_close int dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int fd = -1;
	cleanup_free char *path = NULL;

	if (dir_fd < 0)
		return novm_error(err, 0, "container does not exist");
	if (asprintf(&path, "%s/" CONTROL_SOCKET_NAME, dir) < 0)
		return novm_error(err, ENOMEM, "control socket path");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return novm_error(err, errno, "control socket");
	if (unix_connect(fd, path) < 0)
		return novm_error(err, errno, "connect to the VMM's control socket `%s`", path);
	*out = steal_fd(&fd);
	return 0;
}

int ctl_write_all(int fd, const void *data, size_t len, novm_error_t *err)
{
	if (send_all(fd, data, len) < 0)
		return novm_error(err, errno, "write to the VMM's control socket");
	return 0;
}

int ctl_send(int fd, const char *line, const int *fds, int nfds, novm_error_t *err)
{
	size_t len = strlen(line);
	ssize_t n;

	if (nfds <= 0)
		return ctl_write_all(fd, line, len, err);
	if (nfds > CONTROL_MAX_NIC_FDS)
		return novm_error(err, EINVAL, "control: at most %d fds", CONTROL_MAX_NIC_FDS);
	n = fdpass_send(fd, line, len, fds, nfds);
	if (n < 0)
		return novm_error(err, (int)-n, "write to the VMM's control socket");
	/* The fds went with the first byte; the rest of the line follows. */
	return ctl_write_all(fd, line + n, len - n, err);
}

void ctl_reader_init(struct ctl_reader *r, int fd)
{
	*r = (struct ctl_reader){ .fd = fd };
}

void ctl_reader_release(struct ctl_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = r->consumed = 0;
}

int ctl_read_line(struct ctl_reader *r, int timeout_ms, char **line, novm_error_t *err)
{
	if (r->consumed) {
		memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
		r->len -= r->consumed;
		r->consumed = 0;
	}
	for (;;) {
		char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		if (nl) {
			*nl = '\0';
			*line = r->buf;
			r->consumed = nl + 1 - r->buf;
			return 1;
		}
		if (r->len >= CONTROL_MAX_ANSWER)
			return novm_error(err, 0, "the VMM sent a control line longer than %d bytes",
					  CONTROL_MAX_ANSWER);
		if (r->cap - r->len < 4096) {
			size_t cap = r->cap ? r->cap * 2 : 8192;
			char *grown = realloc(r->buf, cap);
			if (!grown)
				return novm_error(err, ENOMEM, "control answer");
			r->buf = grown;
			r->cap = cap;
		}
		struct pollfd pfd = { r->fd, POLLIN, 0 };
		int ready = poll(&pfd, 1, timeout_ms);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return novm_error(err, errno, "control socket");
		}
		if (ready == 0)
			return novm_error(err, ETIMEDOUT, "waiting for the VMM's answer");
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return novm_error(err, errno, "read from the VMM's control socket");
		}
		if (n == 0)
			return 0;
		r->len += n;
	}
}

const char *ctl_answer_rest(const char *line, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(line, word, n) || (line[n] && line[n] != ' '))
		return NULL;
	return line[n] ? line + n + 1 : line + n;
}

int ctl_parse_answer(const char *line, const char **data, novm_error_t *err)
{
	const char *rest;

	if ((rest = ctl_answer_rest(line, CONTROL_ANS_OK))) {
		*data = rest;
		return 0;
	}
	if ((rest = ctl_answer_rest(line, CONTROL_ANS_ERROR)))
		return rest > line + strlen(CONTROL_ANS_ERROR)
			       ? novm_error(err, 0, "%s", rest)
			       : novm_error(err, 0, "the VMM refused the request");
	return novm_error(err, 0, "unexpected answer from the VMM: \"%.80s\"", line);
}

/* What a request may carry besides its line. */
struct call_extra {
	const int *fds;
	int nfds;
	const void *body;
	size_t len;
};

static int call(const char *dir, const char *request, const struct call_extra *x, int timeout_ms,
		char **data, novm_error_t *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *line = NULL;
	struct ctl_reader r;
	const char *payload;
	char *answer;
	int got, ret = -1;

	if (ctl_connect(dir, &fd, err) < 0)
		return -1;
	if (asprintf(&line, "%s\n", request) < 0)
		return novm_error(err, ENOMEM, "control request");
	if (ctl_send(fd, line, x ? x->fds : NULL, x ? x->nfds : 0, err) < 0 ||
	    (x && x->len && ctl_write_all(fd, x->body, x->len, err) < 0))
		return -1;
	ctl_reader_init(&r, fd);
	got = ctl_read_line(&r, timeout_ms, &answer, err);
	if (got == 0)
		novm_error(err, 0, "the VMM closed the control connection without answering");
	if (got > 0 && ctl_parse_answer(answer, &payload, err) == 0) {
		ret = 0;
		if (data && !(*data = strdup(payload)))
			ret = novm_error(err, ENOMEM, "control answer");
	}
	ctl_reader_release(&r);
	return ret;
}

void ctl_log_stall(const char *dir, const char *request)
{
	cleanup_free char *state = NULL;
	novm_error_t err = NULL;

	if (call(dir, CONTROL_REQ_DIAG, NULL, CTL_DIAG_TIMEOUT_MS, &state, &err) < 0) {
		log_msg(LOG_LEVEL_WARNING, "the VMM did not answer %s in time, nor diag: %s", request,
			err->msg);
		novm_error_release(&err);
		return;
	}
	log_msg(LOG_LEVEL_WARNING, "the VMM did not answer %s in time; its state: %s", request, state);
}

int ctl_call(const char *dir, const char *request, char **data, novm_error_t *err)
{
	return ctl_call_with(dir, request, NULL, 0, NULL, 0, data, err);
}

int ctl_call_with(const char *dir, const char *request, const int *fds, int nfds,
		  const void *body, size_t len, char **data, novm_error_t *err)
{
	const struct call_extra x = { fds, nfds, body, len };

	if (call(dir, request, &x, CTL_CALL_TIMEOUT_MS, data, err) == 0)
		return 0;
	if ((*err)->errno_ == ETIMEDOUT)
		ctl_log_stall(dir, request);
	return -1;
}
