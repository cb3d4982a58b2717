#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

int inroot_open(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	/* "" would fail; "/" and "." both mean the root itself. */
	if (!*path)
		path = "/";
	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

int inroot_mkdirs(int root_fd, const char *path, mode_t mode, novm_error_t *err)
{
	cleanup_free char *copy = strdup(path), *prefix = calloc(1, strlen(path) + 2);
	cleanup_close int cur = -1;
	char *save = NULL;

	if (!copy || !prefix)
		return novm_error(err, ENOMEM, "`%s`", path);
	cur = inroot_open(root_fd, "/", O_PATH | O_DIRECTORY);
	if (cur < 0)
		return novm_error(err, errno, "open the new root");
	/* Each step reopens the whole prefix from the root, so a symlink met
	 * on the way is followed the way the container would follow it, and a
	 * missing component is created in the directory the previous step
	 * resolved to, never through a name that could be swapped. */
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next;

		strcat(prefix, "/");
		strcat(prefix, comp);
		next = inroot_open(root_fd, prefix, O_PATH | O_DIRECTORY);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(cur, comp, mode) < 0 && errno != EEXIST)
				return novm_error(err, errno, "mkdir `%s`", prefix);
			next = inroot_open(root_fd, prefix, O_PATH | O_DIRECTORY);
		}
		if (next < 0)
			return novm_error(err, errno, "`%s`", prefix);
		close(cur);
		cur = next;
	}
	return steal_fd(&cur);
}

int inroot_parent(int root_fd, const char *path, int *parent_fd, const char **name,
		  novm_error_t *err)
{
	cleanup_free char *dir = strdup(path);
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int fd;

	if (!dir)
		return novm_error(err, ENOMEM, "`%s`", path);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return novm_error(err, EINVAL, "`%s`: no file name at the end", path);
	dir[base - path] = '\0';
	fd = inroot_mkdirs(root_fd, dir, 0755, err);
	if (fd < 0)
		return -1;
	*parent_fd = fd;
	*name = base;
	return 0;
}

int inroot_mount_point(int root_fd, const char *path, bool dir, novm_error_t *err)
{
	cleanup_close int parent = -1, created = -1;
	const char *name;
	int fd;

	if (dir)
		return inroot_mkdirs(root_fd, path, 0755, err);
	fd = inroot_open(root_fd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT) {
		if (fd < 0)
			return novm_error(err, errno, "`%s`", path);
		return fd;
	}
	if (inroot_parent(root_fd, path, &parent, &name, err) < 0)
		return -1;
	/* O_EXCL|O_NOFOLLOW: a dangling symlink here is refused, not followed. */
	created = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (created < 0 && errno != EEXIST)
		return novm_error(err, errno, "create `%s`", path);
	fd = inroot_open(root_fd, path, O_PATH);
	if (fd < 0)
		return novm_error(err, errno, "`%s`", path);
	return fd;
}

const char *inroot_fd_path(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}
