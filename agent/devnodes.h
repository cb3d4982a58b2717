/* The container's /dev: a tmpfs the agent fills the way runc does, since
 * device nodes cannot live on the virtio-fs root. */
#ifndef NOVM_AGENT_DEVNODES_H
#define NOVM_AGENT_DEVNODES_H

#include <stdbool.h>

#include "error.h"
#include "oci/spec.h"

/* In a fresh /dev (dev_fd, a directory fd): null, zero, full, random,
 * urandom, tty (0666), the fd/stdin/stdout/stderr links into /proc/self/fd
 * and ptmx -> pts/ptmx.  With console, an empty file `console` a terminal
 * can later be bind-mounted over. */
int devnodes_populate(int dev_fd, bool console, novm_error_t *err);

/* One `linux.devices` entry, at its path inside the root; an existing
 * non-directory there is replaced. */
int devnodes_create(int root_fd, const struct oci_device *dev, novm_error_t *err);

#endif
