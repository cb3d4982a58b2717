/* The VMM's network namespace.  The guest's NICs will come from the
 * interfaces a client puts in the container's network namespace, and the
 * client finds that namespace through the state's pid, the VMM: so the VMM
 * must live in the container's namespace (the path config.json names, or
 * a new one it makes), never in the host's, where a client's set-up would
 * move and address interfaces on the host itself. */
#ifndef NOVM_RUNTIME_NETNS_H
#define NOVM_RUNTIME_NETNS_H

#include <stdbool.h>

#include "error.h"
#include "oci/spec.h"

struct netns_plan {
	int fd;			/* the namespace to join, or -1 */
	const char *path;	/* its path in the spec, or NULL */
	bool unshare;		/* make a new one */
};

/* Decides from linux.namespaces, checking a given path is a network
 * namespace.  No network namespace at all (`--network host`) is refused:
 * a VM cannot share the host's network stack. */
int netns_plan(const struct oci_spec *spec, struct netns_plan *out, novm_error_t *err);
void netns_plan_release(struct netns_plan *p);

/* Opens `path`, checking it is a network namespace. */
int netns_open(const char *path, int *fd_out, novm_error_t *err);

/* In the VMM's process, before any thread: joins or makes the namespace. */
int netns_enter(struct netns_plan *p, novm_error_t *err);

#endif
