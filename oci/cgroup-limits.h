/* cgroup v2 limits from linux.resources, as file contents: those of a
 * VMM's cgroup on the host (runtime/cgroup.c writes them) and those of the
 * container's cgroup in the guest (the agent writes them).  Pure, so they
 * are unit-tested without KVM or a cgroup filesystem.  The guest's RAM is
 * fixed when the VM boots, so the host's memory.max follows the VM's size,
 * not the container's limit alone. */
#ifndef NOVM_OCI_CGROUP_LIMITS_H
#define NOVM_OCI_CGROUP_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "oci/spec.h"

/* The VMM's own memory beyond the guest's RAM: its binary, heap, I/O
 * buffers and threads, and what the kernel charges its cgroup for it (KVM,
 * page tables, the page cache of the kernel, initramfs and files it
 * serves).  Measured in the nested harness (lifecycle.bats logs it) for an
 * idle busybox container with 228 MiB of guest RAM: 2.6 MiB of VMM RSS
 * outside the guest RAM mapping, and memory.current 59 MiB above the
 * VMM's whole RSS (page cache and kernel memory, mostly reclaimable).  A
 * VMM serving more files or NICs needs more; the page cache is reclaimed
 * before the kernel kills for it. */
#define CGROUP_VMM_OVERHEAD ((uint64_t)64 << 20)
/* Added to a pids limit on the host, for the VMM's own threads: up to
 * OCI_VM_MAX_VCPUS (64) vCPUs, the file servers' workers, the I/O loop,
 * vhost workers. */
#define CGROUP_VMM_THREADS 128

/* runc's range for cpu.shares, and the kernel's for the CFS period. */
#define CGROUP_MIN_SHARES 2
#define CGROUP_MAX_SHARES 262144
#define CGROUP_MIN_CFS_US 1000
#define CGROUP_MAX_CFS_PERIOD_US 1000000

/* Each is what to write to the file of that name, "" to leave it. */
struct cgroup_limits {
	char memory_max[24];
	char cpu_max[48];
	char cpu_weight[8];
	char pids_max[24];
};

/* Each value's file and the controller it needs, for those who write
 * them (the host's cgroup, the guest's). */
#define CGROUP_LIMIT_FILES 4
struct cgroup_limit_file {
	const char *file, *controller;
	size_t offset;		/* of its value in struct cgroup_limits */
};
extern const struct cgroup_limit_file cgroup_limit_files[CGROUP_LIMIT_FILES];

static inline char *cgroup_limit_value(const struct cgroup_limits *l, size_t i)
{
	return (char *)l + cgroup_limit_files[i].offset;
}

/* What `update` asks; 0 is "unchanged" everywhere, as runc's flags. */
struct cgroup_update {
	int64_t memory;		/* bytes, -1 unlimited */
	int64_t cpu_quota;	/* -1 unlimited */
	int64_t cpu_period;
	int64_t cpu_shares;
	int64_t pids;		/* -1 unlimited */
};

/* runc's cpu.shares -> cpu.weight: 2..262144 -> 1..10000. */
uint64_t cgroup_cpu_weight(uint64_t shares);

/* For `create`: linux.resources and the RAM the VM boots with.  A memory
 * limit gives memory.max = guest_ram + CGROUP_VMM_OVERHEAD (-1 "max"), no
 * limit nothing; cpu.max "QUOTA [PERIOD]" or "max PERIOD" (quota <= 0 or
 * absent), nothing without quota or period; pids.max the limit, "max"
 * for <= 0.  Values the kernel would refuse are errors here, so nothing
 * is made for them. */
int cgroup_limits_for_spec(const struct oci_resources *res, uint64_t guest_ram,
			   struct cgroup_limits *out, novm_error_t *err);

/* For the container's cgroup in the guest, where its processes are: the
 * limits as the spec says them (memory.max the limit itself, pids.max the
 * limit), with the same checks. */
int cgroup_limits_for_guest(const struct oci_resources *res, struct cgroup_limits *out,
			    novm_error_t *err);

/* For `update` of a VM with guest_ram bytes of RAM, created with the
 * memory limit created_limit (0: none).  A memory limit the VM's RAM
 * cannot hold (it is sized as at create) is refused: there is no balloon
 * to grow the guest.  current_cpu_max is the file's content, for a new
 * period without a new quota (NULL: unknown). */
int cgroup_limits_for_update(const struct cgroup_update *u, uint64_t guest_ram,
			     int64_t created_limit, const char *current_cpu_max,
			     struct cgroup_limits *out, novm_error_t *err);

#endif
