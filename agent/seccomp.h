/* linux.seccomp: the container's syscall filter, built with libseccomp the
 * way runc builds it. */
#ifndef NOVM_AGENT_SECCOMP_H
#define NOVM_AGENT_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "oci/spec.h"

/* Builds the filter and loads it into the calling thread.  Syscall names
 * libseccomp does not know are skipped, as are architectures it does not
 * know; a rule whose action is the default one is left out (libseccomp
 * refuses it).  Does not set no_new_privs itself: the caller either did
 * (process.noNewPrivileges) or still holds CAP_SYS_ADMIN.  SCMP_ACT_NOTIFY
 * is refused: there is no listener for it in the guest. */
int seccomp_apply(const struct oci_seccomp *s, novm_error_t *err);

/* What seccomp_apply() loads, and the pieces it is made of (pure: no
 * filter is loaded; exposed for the unit tests).
 *
 * A syscall newer than the profile gets ENOSYS, not the default action, so
 * libc falls back (clone3 to clone, faccessat2 to faccessat), as runc does:
 * when the default action is an errno, trap or kill, libseccomp's program
 * is preceded by a check of the number against the highest the profile
 * names on the caller's arch. */
#define SECCOMP_ARCHES_MAX 16
/* 6 instructions an arch at most, and 2 to end */
#define SECCOMP_PREFIX_MAX (SECCOMP_ARCHES_MAX * 6 + 2)

struct seccomp_arch_max {
	uint32_t arch;		/* AUDIT_ARCH_*, as in seccomp_data.arch */
	uint32_t max;		/* the highest number named; UINT32_MAX: none */
	uint32_t max_x32;	/* AUDIT_ARCH_X86_64 only: the same for x32 (its
				 * numbers carry 0x40000000); UINT32_MAX: none */
};

/* The native arch and the profile's (those libseccomp knows), with the
 * highest number any of the profile's syscall names has there, whatever
 * its action. */
int seccomp_arch_maxes(const struct oci_seccomp *s, struct seccomp_arch_max *out, size_t *n,
		       novm_error_t *err);

/* The check to put first: writes *len (at most SECCOMP_PREFIX_MAX)
 * instructions to out; a number above its arch's max returns
 * SECCOMP_RET_ERRNO | ENOSYS, anything else goes on to the instruction
 * after the prefix.  An x32 number with no x32 max goes on too (libseccomp
 * treats it as a foreign arch). */
int seccomp_enosys_prefix(const struct seccomp_arch_max *arches, size_t n,
			  struct sock_filter *out, size_t *len, novm_error_t *err);

/* The whole program (malloc'd) and the seccomp() flags for the profile. */
int seccomp_program(const struct oci_seccomp *s, struct sock_filter **out, size_t *len,
		    unsigned *flags, novm_error_t *err);

#endif
