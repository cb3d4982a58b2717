/* Paths inside the container's root, resolved as the container will see
 * them: relative to a directory fd that acts as "/" (openat2 with
 * RESOLVE_IN_ROOT), so neither ".." nor a symlink in the tree can lead
 * outside it.  Everything that touches the new root goes through here. */
#ifndef NOVM_AGENT_INROOT_H
#define NOVM_AGENT_INROOT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* openat2(root_fd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS); returns the fd or -1 with errno set. */
int inroot_open(int root_fd, const char *path, int flags);

/* mkdir -p of path inside the root; returns an O_PATH fd of the directory. */
int inroot_mkdirs(int root_fd, const char *path, mode_t mode, novm_error_t *err);

/* Makes sure path exists as a mount point of the right type: a directory
 * when dir is true, else a regular (empty, new) file; missing parents are
 * created.  Returns an O_PATH fd of it. */
int inroot_mount_point(int root_fd, const char *path, bool dir, novm_error_t *err);

/* Splits off the last component: *parent_fd is an O_PATH fd of the
 * (existing or created) parent, *name points into path.  path must not end
 * in "/" or "..". */
int inroot_parent(int root_fd, const char *path, int *parent_fd, const char **name,
		  novm_error_t *err);

/* "/proc/self/fd/<fd>": how mount(2) is pointed at an fd.  buf holds 32. */
const char *inroot_fd_path(int fd, char buf[32]);

#endif
