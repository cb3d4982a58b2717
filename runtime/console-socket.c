#include "console-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "fdpass.h"
#include "unixsock.h"

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

int console_socket_send(const char *socket_path, int fd, const char *name, novm_error_t *err)
{
	cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (sock < 0)
		return novm_error(err, errno, "console socket");
	if (unix_connect(sock, socket_path) < 0)
		return novm_error(err, errno, "connect to the console socket `%s`", socket_path);
	n = fdpass_send(sock, name, strlen(name), &fd, 1);
	if (n < 0)
		return novm_error(err, (int)-n, "send the console to `%s`", socket_path);
	return 0;
}
