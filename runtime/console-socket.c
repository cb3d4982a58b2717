#include "console-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

int pty_open(int *master, int *slave, char **name, novm_error_t *err)
{
	cleanup_close int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cleanup_close int s = -1;
	char path[128];

	if (m < 0)
		return novm_error(err, errno, "open a pseudo-terminal");
	if (grantpt(m) < 0 || unlockpt(m) < 0)
		return novm_error(err, errno, "unlock the pseudo-terminal");
	if (ptsname_r(m, path, sizeof(path)) != 0)
		return novm_error(err, errno, "pseudo-terminal name");
	s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return novm_error(err, errno, "open `%s`", path);
	if (!(*name = strdup(path)))
		return novm_error(err, ENOMEM, "pseudo-terminal name");
	*master = steal_fd(&m);
	*slave = steal_fd(&s);
	return 0;
}

/* sockaddr_un holds 107 bytes of path; a longer one is reached through an
 * O_PATH descriptor of its directory. */
static int socket_address(const char *path, struct sockaddr_un *sa, int *dir_fd, novm_error_t *err)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) < sizeof(sa->sun_path)) {
		strcpy(sa->sun_path, path);
		return 0;
	}
	cleanup_free char *copy = strdup(path), *copy2 = strdup(path);
	if (!copy || !copy2)
		return novm_error(err, ENOMEM, "console socket");
	*dir_fd = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dir_fd < 0)
		return novm_error(err, errno, "console socket `%s`", path);
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dir_fd,
			     basename(copy2)) >= sizeof(sa->sun_path))
		return novm_error(err, ENAMETOOLONG, "console socket `%s`", path);
	return 0;
}

int console_socket_send(const char *socket_path, int fd, const char *name, novm_error_t *err)
{
	cleanup_close int dir_fd = -1;
	cleanup_close int sock = -1;
	struct sockaddr_un sa;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)name, strlen(name) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;

	if (socket_address(socket_path, &sa, &dir_fd, err) < 0)
		return -1;
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return novm_error(err, errno, "console socket");
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return novm_error(err, errno, "connect to the console socket `%s`", socket_path);
	memset(&control, 0, sizeof(control));
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return novm_error(err, errno, "send the console to `%s`", socket_path);
	return 0;
}
