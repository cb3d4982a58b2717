/* Creating a pod container (pod-spec.h), which has no VM of its own: its
 * shares become grafts of its sandbox's pod share, its process a
 * "container" session of the sandbox's VM (proto/control.h), and a host
 * process stands for it.  That process, forked here, outlives create as
 * exec's detached proxies do: it holds the session's connection, forwards
 * the signals it gets, and ends the way the container's process ended
 * (137 when the VM stops).  Its pid is the container's in the state and
 * the pid file, so the shim that reaps it learns the container's status.
 * On failure nothing is left: no graft, no host process, no state
 * directory. */
#ifndef NOVM_RUNTIME_POD_CREATE_H
#define NOVM_RUNTIME_POD_CREATE_H

#include "create.h"
#include "error.h"
#include "oci/spec.h"

int pod_container_create(const struct runtime_globals *g, const struct create_options *o,
			 const struct oci_spec *spec, const char *sandbox_id,
			 struct created_container *out, novm_error_t *err);

/* Makes a detached tree (open_tree's) read-only, submounts included. */
int pod_seal_tree(int tree_fd, novm_error_t *err);

#endif
