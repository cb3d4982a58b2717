#include "unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

static int at_path(int sock, const char *path, bool bind_it)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cleanup_close int dir_fd = -1;
	int r;

	if (strlen(path) < sizeof(sa.sun_path)) {
		strcpy(sa.sun_path, path);
	} else {
		const char *slash = strrchr(path, '/');
		cleanup_free char *dir = !slash ? strdup(".")
				       : slash == path ? strdup("/")
						       : strndup(path, slash - path);
		const char *name = slash ? slash + 1 : path;

		if (!dir)
			return -1;
		dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dir_fd < 0)
			return -1;
		if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dir_fd,
				     name) >= sizeof(sa.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
	}
	if (bind_it)
		return bind(sock, (struct sockaddr *)&sa, sizeof(sa));
	while ((r = connect(sock, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
		;
	return r;
}

int unix_bind(int sock, const char *path)
{
	return at_path(sock, path, true);
}

int unix_connect(int sock, const char *path)
{
	return at_path(sock, path, false);
}
