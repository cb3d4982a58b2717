/* linux.seccomp: the container's syscall filter, built with libseccomp the
 * way runc builds it. */
#ifndef NOVM_AGENT_SECCOMP_H
#define NOVM_AGENT_SECCOMP_H

#include "error.h"
#include "oci/spec.h"

/* Builds the filter and loads it into the calling thread.  Syscall names
 * libseccomp does not know are skipped, as are architectures it does not
 * know; a rule whose action is the default one is left out (libseccomp
 * refuses it).  Does not set no_new_privs itself: the caller either did
 * (process.noNewPrivileges) or still holds CAP_SYS_ADMIN.  SCMP_ACT_NOTIFY
 * is refused: there is no listener for it in the guest. */
int seccomp_apply(const struct oci_seccomp *s, novm_error_t *err);

#endif
