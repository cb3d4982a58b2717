/* The control server's unit tests' client end: a server under test driven
 * from the test (control_dispatch, no I/O loop), requests sent as a client
 * would, with fds (SCM_RIGHTS), and answers read line by line. */
#ifndef NOVM_CONTROL_CLIENT_H
#define NOVM_CONTROL_CLIENT_H

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/channel/control.h"

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int send_with_fds(int sock, const char *data, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)data, strlen(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static struct control *ctl;
static char sock_path[100];

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	control_dispatch(ctl);	/* accept */
	return fd;
}

/* Serves until the client has a whole line (or EOF): the line without its
 * newline, "" at EOF, "TIMEOUT" when nothing came. */
static char answer[CONTROL_MAX_ANSWER];
static const char *read_answer_into(int fd, char *buf)
{
	size_t len = 0;
	int64_t end = ms_now() + 2000;

	while (ms_now() < end) {
		control_dispatch(ctl);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5) <= 0)
			continue;
		ssize_t n = recv(fd, buf + len, 1, 0);	/* byte by byte: no overreading */
		if (n <= 0) {
			buf[len] = '\0';
			return len ? buf : "";
		}
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return buf;
		}
		if (++len == CONTROL_MAX_ANSWER - 1)
			break;
	}
	return "TIMEOUT";
}

static const char *read_answer(int fd)
{
	return read_answer_into(fd, answer);
}

static bool at_eof(int fd)
{
	static char more[CONTROL_MAX_ANSWER];

	return strcmp(read_answer_into(fd, more), "") == 0;
}

static const char *call(const char *request)
{
	static char saved[CONTROL_MAX_ANSWER];
	int fd = client();

	send(fd, request, strlen(request), MSG_NOSIGNAL);
	snprintf(saved, sizeof(saved), "%s", read_answer(fd));
	if (!at_eof(fd))
		snprintf(saved, sizeof(saved), "NOT CLOSED");
	close(fd);
	return saved;
}

static void serve_a_little(void)
{
	for (int i = 0; i < 5; i++)
		control_dispatch(ctl);
}

#endif
