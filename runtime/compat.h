/* runc features a VM cannot offer as runc does, in one place: what is
 * accepted and ignored says so in the log (a warning, not silence), what
 * would change the meaning is refused with the reason. */
#ifndef NOVM_RUNTIME_COMPAT_H
#define NOVM_RUNTIME_COMPAT_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "oci/spec.h"

/* Warns about config.json settings the guest does not apply: AppArmor and
 * SELinux labels, uid/gid mappings; read from the spec's own tree, not
 * parsed again. */
void compat_warn_config(const struct oci_spec *spec);

/* The same for an exec's process object (--process file or flags):
 * apparmorProfile and selinuxLabel. */
void compat_warn_process(const char *process_json, size_t len);

/* exec --cgroup [controller:]path: the exec goes where the container's
 * processes are; only that ("", "/", "controller:/") can be honoured. */
int compat_check_exec_cgroup(const char *value, novm_error_t *err);

/* runc 1.2's --pidfd-socket: a pidfd of pid (the process `state` or the
 * pid file names: the VMM, or an exec's proxy) sent over the AF_UNIX socket
 * with SCM_RIGHTS, the payload "standard" (create, run) or "setns"
 * (exec) as runc's. */
int compat_send_pidfd(const char *socket_path, pid_t pid, const char *kind, novm_error_t *err);

#endif
