/* The pure decisions behind the container's root file system setup: what
 * an OCI mount's options mean to mount(2), what kind of mount it is, and
 * which /proc/sys file a sysctl key names.  Unit-tested on the host. */
#ifndef NOVM_AGENT_ROOTSPEC_H
#define NOVM_AGENT_ROOTSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct mount_opts {
	unsigned long flags;		/* MS_* for the mount itself (MS_BIND, MS_REC, ...) */
	unsigned long propagation;	/* MS_PRIVATE, MS_SHARED, ... (| MS_REC); 0: unchanged */
	char *data;			/* filesystem options, comma-joined; NULL when none */
};

/* Splits mount options as runc does: flag words (ro, nosuid, bind, rbind,
 * relatime, ...) become flags, propagation words a separate mount call,
 * everything else (mode=755, newinstance, size=...) the data string.  A
 * later word overrides an earlier one (rw after ro). */
int mount_opts_parse(char *const *options, size_t n, struct mount_opts *out, novm_error_t *err);
void mount_opts_release(struct mount_opts *o);

/* The flags a read-only/nosuid/... bind mount needs in its second,
 * remounting call: bind mounts ignore them on the first. */
unsigned long mount_opts_remount_flags(const struct mount_opts *o);

enum mount_kind {
	MOUNT_KIND_BIND,
	MOUNT_KIND_PROC,
	MOUNT_KIND_SYSFS,
	MOUNT_KIND_TMPFS,
	MOUNT_KIND_DEVPTS,
	MOUNT_KIND_MQUEUE,
	MOUNT_KIND_CGROUP,	/* cgroup or cgroup2: best effort */
	MOUNT_KIND_OTHER,	/* handed to mount(2) as written */
};

/* type "bind" or a bind/rbind option makes a bind mount, whatever the
 * type says; otherwise the type decides. */
enum mount_kind mount_kind_of(const char *type, const struct mount_opts *o);

/* The path below /proc/sys for a sysctl key: "net.ipv4.ip_forward" ->
 * "net/ipv4/ip_forward".  Keys are dotted or slashed; an empty component,
 * "..", a leading '/' or characters outside [A-Za-z0-9_.-/:] are refused so
 * the result stays inside /proc/sys. */
int sysctl_key_path(const char *key, char **out, novm_error_t *err);

#endif
