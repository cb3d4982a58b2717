/* novm-runc update: runc's flags and --resources JSON are read and checked.
 * Memory, CPU quota, period and shares, and the pids limit are written to
 * the VMM's cgroup on the host (cgroup-limits.h).  A VM's RAM is fixed when
 * it boots (no balloon), so a memory limit it cannot hold is refused; the
 * VM keeps its vCPUs whatever the CPU settings.  Other settings (cpuset,
 * realtime, runc 1.2's --cpu-idle and --cpu-burst, block I/O) are checked
 * and ignored, with a debug line saying so. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cleanup.h"
#include "cli.h"
#include "lifecycle.h"
#include "log.h"
#include "oci/json.h"
#include "oci/spec.h"
#include "pod.h"
#include "runtime.h"
#include "util.h"

enum {
	OPT_RESOURCES, OPT_BLKIO_WEIGHT, OPT_CPU_PERIOD, OPT_CPU_QUOTA, OPT_CPU_SHARE,
	OPT_CPU_RT_PERIOD, OPT_CPU_RT_RUNTIME, OPT_CPUSET_CPUS, OPT_CPUSET_MEMS, OPT_MEMORY,
	OPT_MEMORY_RESERVATION, OPT_MEMORY_SWAP, OPT_KERNEL_MEMORY, OPT_KERNEL_MEMORY_TCP,
	OPT_PIDS_LIMIT, OPT_L3_CACHE, OPT_MEM_BW, OPT_CPU_IDLE, OPT_CPU_BURST,
};

static const struct cli_flag update_flags[] = {
	{ "resources|r", true, OPT_RESOURCES },
	{ "blkio-weight", true, OPT_BLKIO_WEIGHT },
	{ "cpu-period", true, OPT_CPU_PERIOD },
	{ "cpu-quota", true, OPT_CPU_QUOTA },
	{ "cpu-share", true, OPT_CPU_SHARE },
	{ "cpu-rt-period", true, OPT_CPU_RT_PERIOD },
	{ "cpu-rt-runtime", true, OPT_CPU_RT_RUNTIME },
	{ "cpuset-cpus", true, OPT_CPUSET_CPUS },
	{ "cpuset-mems", true, OPT_CPUSET_MEMS },
	{ "memory", true, OPT_MEMORY },
	{ "memory-reservation", true, OPT_MEMORY_RESERVATION },
	{ "memory-swap", true, OPT_MEMORY_SWAP },
	{ "kernel-memory", true, OPT_KERNEL_MEMORY },
	{ "kernel-memory-tcp", true, OPT_KERNEL_MEMORY_TCP },
	{ "pids-limit", true, OPT_PIDS_LIMIT },
	{ "l3-cache-schema", true, OPT_L3_CACHE },
	{ "mem-bw-schema", true, OPT_MEM_BW },
	{ "cpu-idle", true, OPT_CPU_IDLE },
	{ "cpu-burst", true, OPT_CPU_BURST },
	{ 0 },
};

/* docker/go-units RAMInBytes: "512", "10m", "1.5GiB", binary multiples;
 * "-1" is unlimited. */
static bool parse_ram_bytes(const char *s, int64_t *out)
{
	static const char units[] = "kmgtp";
	char *end;
	double v;

	if (!strcmp(s, "-1")) {
		*out = -1;
		return true;
	}
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return false;
	if (*end == ' ')
		end++;
	const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
	if (u) {
		for (const char *k = units; k <= u; k++)
			v *= 1024;
		end++;
		if (tolower((unsigned char)*end) == 'i')
			end++;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end || v > 9.2e18)
		return false;
	*out = (int64_t)v;
	return true;
}

struct update_request {
	struct cgroup_update cg;	/* what the host cgroup gets */
	bool other_memory;	/* reservation, swap, kernel: no VM meaning */
	bool other_cpu;		/* cpuset, realtime, idle, burst */
	bool other;		/* anything else given */
};

static const char *const cgroup_cpu_keys[] = { "quota", "period", "shares" };

static const char *const ignored_memory_keys[] = {
	"reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller",
	"useHierarchy", "checkBeforeUpdate",
};

/* The runtime-spec's LinuxResources subset runc's update reads. */
static int parse_resources(const char *text, size_t len, struct update_request *r, novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root, memory, cpu, pids, node;
	uint64_t u;
	int got;

	if (json_doc_parse("resources", text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (json_want_object(&root, NULL, err) < 0 || json_want_object(&root, "memory", err) < 0 ||
	    json_want_object(&root, "cpu", err) < 0 || json_want_object(&root, "pids", err) < 0)
		return -1;
	json_member(&root, "memory", &memory);
	json_member(&root, "cpu", &cpu);
	json_member(&root, "pids", &pids);
	if (json_get_i64(&memory, "limit", &r->cg.memory, err) < 0 ||
	    json_get_i64(&cpu, "quota", &r->cg.cpu_quota, err) < 0 ||
	    json_get_i64(&pids, "limit", &r->cg.pids, err) < 0)
		return -1;
	/* -1 is unlimited; below that is a mistake, not "no limit" */
	if (r->cg.memory < -1)
		return novm_error(err, 0, "resources: memory.limit: %" PRId64
				  " is not a limit (-1 for unlimited, or 0 and up)", r->cg.memory);
	if ((got = json_get_u64(&cpu, "period", &u, err)) < 0)
		return -1;
	if (got > 0 && u > INT64_MAX)
		return novm_error(err, 0, "resources: cpu.period: %" PRIu64 " is out of range", u);
	r->cg.cpu_period = got > 0 ? (int64_t)u : 0;
	if ((got = json_get_u64(&cpu, "shares", &u, err)) < 0)
		return -1;
	if (got > 0 && u > INT64_MAX)
		return novm_error(err, 0, "resources: cpu.shares: %" PRIu64 " is out of range", u);
	r->cg.cpu_shares = got > 0 ? (int64_t)u : 0;
	for (size_t i = 0; i < ARRAY_SIZE(ignored_memory_keys); i++) {
		json_member(&memory, ignored_memory_keys[i], &node);
		r->other_memory |= json_present(&node);
	}
	for (size_t i = 0; json_present(&cpu) && i < json_object_len(&cpu); i++) {
		const char *key = json_object_entry(&cpu, i, &node);
		bool ours = false;
		for (size_t k = 0; k < ARRAY_SIZE(cgroup_cpu_keys); k++)
			ours |= !strcmp(key, cgroup_cpu_keys[k]);
		r->other_cpu |= !ours && json_present(&node);
	}
	for (size_t i = 0; i < json_object_len(&root); i++) {
		const char *key = json_object_entry(&root, i, &node);
		if (strcmp(key, "memory") && strcmp(key, "cpu") && strcmp(key, "pids") &&
		    json_present(&node))
			r->other = true;
	}
	return 0;
}

static int read_resources(const char *path, struct update_request *r, novm_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t len;

	if (read_file(!strcmp(path, "-") ? "/dev/stdin" : path, &text, &len, err) < 0)
		return -1;
	return parse_resources(text, len, r, err);
}

/* The limit the VM was sized for, from the bundle as it was created. */
static bool current_limit(const struct ctr_state *st, int64_t *limit)
{
	cleanup_oci_spec struct oci_spec *spec = NULL;

	if (oci_spec_load(st->oci->bundle, &spec, NULL) < 0 || !spec->linux_.resources.has_memory_limit)
		return false;
	*limit = spec->linux_.resources.memory_limit;
	return true;
}

/* cpu.max as it is, for a period that comes without a quota. */
static char *current_cpu_max(const struct ctr_state *st)
{
	cleanup_free char *path = NULL;
	char *text = NULL;
	size_t len;

	if (!st->vmm.cgroup || asprintf(&path, "%s/cpu.max", st->vmm.cgroup) < 0 ||
	    read_file(path, &text, &len, NULL) < 0)
		return NULL;
	return text;
}

static int apply(struct ctr_state *st, const struct update_request *r, novm_error_t *err)
{
	cleanup_free char *cpu_max = NULL;
	struct cgroup_limits limits;
	int64_t created = 0;

	if (!strcmp(st->status, "stopped") || !strcmp(st->status, "creating"))
		return novm_error(err, 0, "container not running");
	if (r->cg.memory > 0 && !current_limit(st, &created))
		created = 0;
	if (r->cg.cpu_period && !r->cg.cpu_quota)
		cpu_max = current_cpu_max(st);
	if (cgroup_limits_for_update(&r->cg, st->vmm.memory, created, cpu_max, &limits, err) < 0)
		return -1;
	if (r->other_memory)
		log_msg(LOG_LEVEL_DEBUG, "update %s: memory reservation/swap/kernel settings ignored",
			st->id);
	if (r->cg.cpu_quota || r->cg.cpu_period || r->cg.cpu_shares || r->other_cpu)
		log_msg(LOG_LEVEL_DEBUG, "update %s: the VM keeps its vCPUs%s", st->id,
			r->other_cpu ? "; cpuset, realtime, idle and burst settings ignored" : "");
	if (r->other)
		log_msg(LOG_LEVEL_DEBUG, "update %s: block I/O and other settings ignored", st->id);
	/* The guest's cgroup has create's limits (agent/guestlimits.c). */
	if (r->cg.memory || r->cg.pids)
		log_msg(LOG_LEVEL_WARNING, "update %s: the limits of the container's cgroup inside its VM "
					   "(memory.max, pids.max) stay as created; the host's change", st->id);
	if (!st->vmm.cgroup) {
		log_msg(LOG_LEVEL_DEBUG, "update %s: no cgroupsPath, no host cgroup to write", st->id);
		return 0;
	}
	return cgroup_write_limits(st->vmm.cgroup, &limits, st->id, err);
}

int cmd_update(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_ctr_state struct ctr_state st = { 0 };
	cleanup_close int lock_fd = -1;
	struct update_request flags = { 0 };
	const char *resources = NULL;
	novm_error_t err = NULL;
	struct cli_parser p;
	long long n;
	int64_t bytes;
	int opt;

	cli_init(&p, "update", argc, argv);
	while ((opt = cli_next(&p, update_flags)) != CLI_END) {
		switch (opt) {
		case CLI_HELP: return 0;
		case CLI_BAD: return 1;
		case OPT_RESOURCES: resources = p.value; break;
		case OPT_MEMORY:
			if (!parse_ram_bytes(p.value, &bytes))
				return cli_bad_value(&p, "memory", "invalid size");
			flags.cg.memory = bytes;
			break;
		case OPT_MEMORY_RESERVATION: case OPT_MEMORY_SWAP: case OPT_KERNEL_MEMORY:
		case OPT_KERNEL_MEMORY_TCP:
			if (!parse_ram_bytes(p.value, &bytes))
				return cli_bad_value(&p, "memory", "invalid size");
			flags.other_memory = true;
			break;
		case OPT_CPU_PERIOD: case OPT_CPU_QUOTA: case OPT_CPU_SHARE: case OPT_CPU_RT_PERIOD:
		case OPT_CPU_RT_RUNTIME:
			if (!cli_parse_int(p.value, -1, INT64_MAX, &n))
				return cli_bad_value(&p, "cpu", "parse error");
			if (opt == OPT_CPU_PERIOD)
				flags.cg.cpu_period = n;
			else if (opt == OPT_CPU_QUOTA)
				flags.cg.cpu_quota = n;
			else if (opt == OPT_CPU_SHARE)
				flags.cg.cpu_shares = n;
			else
				flags.other_cpu = true;
			break;
		/* runc 1.2's: checked as runc does, then ignored like the
		 * other CPU settings (the VM keeps its vCPUs). */
		case OPT_CPU_IDLE:
			if (!cli_parse_int(p.value, 0, 1, &n))
				return cli_bad_value(&p, "cpu-idle", "must be 0 or 1");
			flags.other_cpu = true;
			break;
		case OPT_CPU_BURST:
			if (!cli_parse_int(p.value, 0, INT64_MAX, &n))
				return cli_bad_value(&p, "cpu-burst", "parse error");
			flags.other_cpu = true;
			break;
		case OPT_CPUSET_CPUS: case OPT_CPUSET_MEMS:
			flags.other_cpu = true;
			break;
		case OPT_BLKIO_WEIGHT: case OPT_PIDS_LIMIT:
			if (!cli_parse_int(p.value, -1, INT64_MAX, &n))
				return cli_bad_value(&p, opt == OPT_PIDS_LIMIT ? "pids-limit" : "blkio-weight",
						     "parse error");
			if (opt == OPT_PIDS_LIMIT)
				flags.cg.pids = n;
			else
				flags.other = true;
			break;
		default:
			flags.other = true;
			break;
		}
	}
	if (!cli_check_args(&p, 1, 1))
		return 1;
	/* As runc: with --resources the other flags are ignored. */
	if (resources) {
		memset(&flags, 0, sizeof(flags));
		if (read_resources(resources, &flags, &err) < 0)
			return cli_fail(&err);
	}
	if (ctr_open(g->root, cli_arg(&p, 0), &lock_fd, &st, &err) < 0 ||
	    pod_refuse(&st, "update", &err) < 0 || apply(&st, &flags, &err) < 0)
		return cli_fail(&err);
	return 0;
}
