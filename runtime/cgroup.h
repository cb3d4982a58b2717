/* The VMM's cgroup: where linux.cgroupsPath says the container's processes
 * go, so the host's resource accounting and limits see the whole VM.  Only
 * the unified hierarchy (cgroup v2) is used.  Joining it is best effort, as
 * a VM runs fine outside its cgroup, and so is a controller the parent does
 * not delegate (a warning); a limit the kernel refuses is an error. */
#ifndef NOVM_RUNTIME_CGROUP_H
#define NOVM_RUNTIME_CGROUP_H

#include <stdbool.h>

#include "oci/cgroup-limits.h"
#include "error.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The directory for `cgroups_path` under `root` (CGROUP_ROOT):
 *   "/a/b" or "a/b"              -> <root>/a/b
 *   "slice:prefix:name" (systemd) -> <root>/<slice path>/<prefix>-<name>.scope
 * where the slice path expands "a-b.slice" to "a.slice/a-b.slice", as
 * systemd nests slices.  *dir is NULL when cgroups_path is NULL or empty. */
int cgroup_resolve(const char *root, const char *cgroups_path, bool systemd, char **dir,
		   novm_error_t *err);

/* Makes dir under root (its components one by one) and writes the limits
 * there.  The controllers they need are enabled in the subtree_control of
 * each directory made here, as runc does, never in one that was there
 * before: a controller missing is a warning naming `id`.  A cgroup that
 * cannot be made at all (no cgroup2 mount, no rights) is a warning too. */
int cgroup_prepare(const char *root, const char *dir, const struct cgroup_limits *l,
		   const char *id, novm_error_t *err);

/* Writes the limits that are set to dir's files; a controller that is not
 * enabled there is a warning naming `id`. */
int cgroup_write_limits(const char *dir, const struct cgroup_limits *l, const char *id,
			novm_error_t *err);

/* Moves the calling process into dir, creating it. */
int cgroup_enter(const char *dir, novm_error_t *err);

/* Removes dir once it is empty (the VMM gone), waiting up to a second
 * for it to empty; errors are ignored. */
void cgroup_remove(const char *dir);

#endif
