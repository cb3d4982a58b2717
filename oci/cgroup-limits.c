#include "cgroup-limits.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "oci/vm-size.h"

const struct cgroup_limit_file cgroup_limit_files[CGROUP_LIMIT_FILES] = {
	{ "memory.max", "memory", offsetof(struct cgroup_limits, memory_max) },
	{ "cpu.max", "cpu", offsetof(struct cgroup_limits, cpu_max) },
	{ "cpu.weight", "cpu", offsetof(struct cgroup_limits, cpu_weight) },
	{ "pids.max", "pids", offsetof(struct cgroup_limits, pids_max) },
};

uint64_t cgroup_cpu_weight(uint64_t shares)
{
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* cpu.max: "QUOTA PERIOD" with "max" for no quota; `keep` is the quota
 * token when only a period is given (NULL: "max").  `what` names the
 * fields in errors ("linux.resources.cpu." or "cpu-"). */
static int cpu_max(const char *what, int64_t quota, int64_t period, const char *keep, char *buf,
		   size_t size, novm_error_t *err)
{
	char q[24];
	int n;

	buf[0] = '\0';
	if (!quota && !period)
		return 0;
	if (period && (period < CGROUP_MIN_CFS_US || period > CGROUP_MAX_CFS_PERIOD_US))
		return novm_error(err, 0, "%speriod: %" PRId64 " is out of range (%d to %d microseconds)",
				  what, period, CGROUP_MIN_CFS_US, CGROUP_MAX_CFS_PERIOD_US);
	if (quota > 0 && quota < CGROUP_MIN_CFS_US)
		return novm_error(err, 0, "%squota: %" PRId64 " is below the kernel's minimum of %d microseconds",
				  what, quota, CGROUP_MIN_CFS_US);
	if (quota > 0)
		snprintf(q, sizeof(q), "%" PRId64, quota);
	else
		snprintf(q, sizeof(q), "%.*s", keep && !quota ? (int)strcspn(keep, " \n") : 3,
			 keep && !quota ? keep : "max");
	n = period ? snprintf(buf, size, "%s %" PRId64, q, period) : snprintf(buf, size, "%s", q);
	return n < 0 || (size_t)n >= size ? novm_error(err, 0, "%squota: \"%s\" is too long", what, q) : 0;
}

static int cpu_weight(const char *what, int64_t shares, char *buf, size_t size, novm_error_t *err)
{
	buf[0] = '\0';
	if (!shares)
		return 0;
	if (shares < CGROUP_MIN_SHARES || shares > CGROUP_MAX_SHARES)
		return novm_error(err, 0, "%sshares: %" PRId64 " is out of range (%d to %d)", what, shares,
				  CGROUP_MIN_SHARES, CGROUP_MAX_SHARES);
	snprintf(buf, size, "%" PRIu64, cgroup_cpu_weight(shares));
	return 0;
}

/* pids.max: the limit plus `extra`.  On the host the cgroup holds the
 * VMM, whose threads (main, I/O loop, vCPUs, file-server workers, vhost
 * workers) must fit beside the container's processes, or a small
 * --pids-limit would stop the VM from starting. */
static void pids_max(int64_t limit, int64_t extra, char *buf, size_t size)
{
	if (limit > 0 && limit <= INT64_MAX - extra)
		snprintf(buf, size, "%" PRId64, limit + extra);
	else
		snprintf(buf, size, "max");
}

/* linux.resources as file contents; a positive memory limit gives
 * memory_for_limit (0: the limit itself), a positive pids limit gets
 * pids_extra added. */
static int limits_from_resources(const struct oci_resources *res, uint64_t memory_for_limit,
				 int64_t pids_extra, struct cgroup_limits *out, novm_error_t *err)
{
	static const char what[] = "linux.resources.cpu.";
	int64_t quota = res->has_cpu_quota ? res->cpu_quota : 0;
	int64_t period = res->has_cpu_period ? (int64_t)res->cpu_period : 0;
	int64_t shares = res->has_cpu_shares ? (int64_t)res->cpu_shares : 0;

	memset(out, 0, sizeof(*out));
	/* Unsigned in the spec: huge ones are refused before they turn negative. */
	if (res->has_cpu_period && res->cpu_period > CGROUP_MAX_CFS_PERIOD_US)
		return novm_error(err, 0, "%speriod: %" PRIu64 " is out of range (%d to %d microseconds)",
				  what, res->cpu_period, CGROUP_MIN_CFS_US, CGROUP_MAX_CFS_PERIOD_US);
	if (res->has_cpu_shares && res->cpu_shares > CGROUP_MAX_SHARES)
		return novm_error(err, 0, "%sshares: %" PRIu64 " is out of range (%d to %d)", what,
				  res->cpu_shares, CGROUP_MIN_SHARES, CGROUP_MAX_SHARES);
	if (cpu_max(what, quota, period, NULL, out->cpu_max, sizeof(out->cpu_max), err) < 0 ||
	    cpu_weight(what, shares, out->cpu_weight, sizeof(out->cpu_weight), err) < 0)
		return -1;
	if (res->has_memory_limit && res->memory_limit > 0)
		snprintf(out->memory_max, sizeof(out->memory_max), "%" PRIu64,
			 memory_for_limit ? memory_for_limit : (uint64_t)res->memory_limit);
	else if (res->has_memory_limit && res->memory_limit < 0)
		snprintf(out->memory_max, sizeof(out->memory_max), "max");
	if (res->has_pids_limit)
		pids_max(res->pids_limit, pids_extra, out->pids_max, sizeof(out->pids_max));
	return 0;
}

int cgroup_limits_for_spec(const struct oci_resources *res, uint64_t guest_ram,
			   struct cgroup_limits *out, novm_error_t *err)
{
	return limits_from_resources(res, guest_ram + CGROUP_VMM_OVERHEAD, CGROUP_VMM_THREADS, out,
				     err);
}

int cgroup_limits_for_guest(const struct oci_resources *res, struct cgroup_limits *out,
			    novm_error_t *err)
{
	return limits_from_resources(res, 0, 0, out, err);
}

static int memory_max_for_update(int64_t limit, uint64_t guest_ram, int64_t created_limit,
				 char *buf, size_t size, novm_error_t *err)
{
	uint64_t most = guest_ram > OCI_VM_MEMORY_OVERHEAD ? (uint64_t)(guest_ram - OCI_VM_MEMORY_OVERHEAD) : 0;
	uint64_t ram;

	buf[0] = '\0';
	if (!limit)
		return 0;
	if (limit < 0) {
		snprintf(buf, size, "max");
		return 0;
	}
	/* Docker sends the whole resources: the limit the VM was sized for
	 * gives back what create wrote, whatever sized the VM. */
	if (limit == created_limit) {
		snprintf(buf, size, "%" PRIu64, guest_ram + CGROUP_VMM_OVERHEAD);
		return 0;
	}
	if (!guest_ram)
		return novm_error(err, 0, "memory cannot be changed: the running VM's size is not recorded");
	if ((uint64_t)limit > most)
		return novm_error(err, 0,
				  "memory limit %" PRId64 " is more than the running VM can hold: its RAM was fixed at %" PRIu64
				  " MiB when it booted (no balloon to grow it), enough for a limit of at most %" PRIu64,
				  limit, (uint64_t)(guest_ram / OCI_MiB), most);
	/* The RAM this limit would have been given at create. */
	ram = oci_vm_memory_for_limit((uint64_t)limit);
	if (ram > guest_ram)
		ram = guest_ram;
	snprintf(buf, size, "%" PRIu64, ram + CGROUP_VMM_OVERHEAD);
	return 0;
}

int cgroup_limits_for_update(const struct cgroup_update *u, uint64_t guest_ram,
			     int64_t created_limit, const char *current_cpu_max,
			     struct cgroup_limits *out, novm_error_t *err)
{
	static const char what[] = "cpu-";

	memset(out, 0, sizeof(*out));
	if (u->cpu_quota < -1 || u->cpu_period < 0)
		return novm_error(err, 0, "cpu-%s: %" PRId64 " is not a valid value",
				  u->cpu_period < 0 ? "period" : "quota",
				  u->cpu_period < 0 ? u->cpu_period : u->cpu_quota);
	if (cpu_max(what, u->cpu_quota, u->cpu_period, current_cpu_max, out->cpu_max,
		    sizeof(out->cpu_max), err) < 0 ||
	    cpu_weight(what, u->cpu_shares, out->cpu_weight, sizeof(out->cpu_weight), err) < 0)
		return -1;
	if (u->memory < -1)
		return novm_error(err, 0, "memory: %" PRId64 " is not a limit (-1 for unlimited, or 0 and up)",
				  u->memory);
	if (memory_max_for_update(u->memory, guest_ram, created_limit, out->memory_max,
				  sizeof(out->memory_max), err) < 0)
		return -1;
	if (u->pids < -1)
		return novm_error(err, 0, "pids-limit: %" PRId64 " is not a limit (-1 for unlimited, or 0 and up)",
				  u->pids);
	if (u->pids)
		pids_max(u->pids, CGROUP_VMM_THREADS, out->pids_max, sizeof(out->pids_max));
	return 0;
}
