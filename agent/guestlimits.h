/* linux.resources inside the guest: the container's cgroup gets the spec's
 * memory, CPU and pids limits, so its processes are held to them in the VM
 * as runc holds them on a host (a memory limit is met by the guest's OOM
 * killer, a pids limit by fork's EAGAIN), and the containers of one pod
 * are held each to its own. */
#ifndef NOVM_AGENT_GUESTLIMITS_H
#define NOVM_AGENT_GUESTLIMITS_H

#include <stdbool.h>

#include "error.h"
#include "oci/cgroup-limits.h"
#include "oci/spec.h"

/* Enables controller `name` ("memory", "cpu", "pids") for the guest root
 * cgroup's children; one the guest kernel lacks is an error naming it. */
int guest_controller_enable(const char *name, novm_error_t *err);

/* The spec's limits (oci/cgroup-limits.c's values) written into the
 * cgroup directory cgroup_fd, their controllers enabled first: memory and
 * pids for every container, CPU for a pod's (a VM's only container has its
 * vCPUs and the host's quota).  A controller the guest kernel lacks is an
 * error for a pod's container, a warning for a VM's only one (the VM's
 * size holds it still). */
int guest_limits_apply(int cgroup_fd, const struct oci_spec *spec, bool pod, novm_error_t *err);

#endif
