/* linux.resources inside the guest: the container's cgroup gets the spec's
 * memory, CPU and pids limits, so its processes are held to them in the VM
 * as runc holds them on a host (a memory limit is met by the guest's OOM
 * killer, a pids limit by fork's EAGAIN), and the containers of one pod
 * are held each to its own. */
#ifndef NOVM_AGENT_GUESTLIMITS_H
#define NOVM_AGENT_GUESTLIMITS_H

#include "error.h"
#include "oci/cgroup-limits.h"
#include "oci/spec.h"

/* The controllers limits need, enabled in the guest's root cgroup; what
 * the guest kernel lacks is an error naming the controller. */
int guest_limits_enable(const struct cgroup_limits *l, novm_error_t *err);

/* The spec's limits (oci/cgroup-limits.c's values) written into the
 * cgroup directory cgroup_fd, their controllers enabled first. */
int guest_limits_apply(int cgroup_fd, const struct oci_spec *spec, novm_error_t *err);

#endif
