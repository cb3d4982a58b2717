/* linux.resources.devices in the guest: a cgroup v2 device program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) built from the OCI rules, attached to the
 * container's cgroup.  cgroup v2 has no devices.allow file; runc and crun
 * attach such a program too. */
#ifndef NOVM_AGENT_DEVCGROUP_H
#define NOVM_AGENT_DEVCGROUP_H

#include <linux/bpf.h>
#include <stddef.h>

#include "error.h"
#include "oci/spec.h"

/* More rules than this are refused: the program grows by up to 8
 * instructions a rule, and no real configuration comes close. */
#define DEVCGROUP_MAX_RULES 1024

/* Builds the program into *insns (malloc'd, *len instructions).  The
 * decision is made per access bit (read, write, mknod): the last rule that
 * matches the device's type and numbers and names the bit decides it, a
 * request passes when all its bits are allowed, and a bit no rule decides
 * is denied (runc's default; a first allow-all rule makes a deny list).
 * Pure: no kernel involved. */
int devcgroup_build(const struct oci_device_rule *rules, size_t n, struct bpf_insn **insns,
		    size_t *len, novm_error_t *err);

/* Builds the program, loads it and attaches it to the cgroup v2 directory
 * `cgroup_dir_fd` with BPF_F_ALLOW_MULTI, so a nested runtime in the
 * container can still attach its own (which can only narrow the set).  The
 * program stays attached after the fds are closed; applying again stacks a
 * second program (both must allow). */
int devcgroup_apply(int cgroup_dir_fd, const struct oci_device_rule *rules, size_t n,
		    novm_error_t *err);

/* linux.resources.devices of spec, then an allow for each linux.devices
 * node and runc's always-allowed devices, applied as above: always, as
 * runc does, so a spec without rules gets only the always-allowed ones. */
int devcgroup_apply_spec(int cgroup_dir_fd, const struct oci_spec *spec, novm_error_t *err);

#endif
