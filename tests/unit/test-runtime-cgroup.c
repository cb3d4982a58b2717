/* The VMM's cgroup limits: spec and update values to file contents (runc's
 * conversions, the VM's fixed RAM), then the files written in a directory
 * that stands for a cgroup. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/vm-size.h"
#include "runtime/cgroup.h"
#include "oci/cgroup-limits.h"
#include "tap.h"
#include "util.h"

#define MiB OCI_MiB

static bool err_has(novm_error_t *err, const char *part)
{
	bool r = *err && strstr((*err)->msg, part);
	if (!r)
		printf("# error: %s\n", *err ? (*err)->msg : "(none)");
	novm_error_release(err);
	return r;
}

static void test_weight(void)
{
	ok(cgroup_cpu_weight(2) == 1, "shares 2 -> weight 1");
	ok(cgroup_cpu_weight(1024) == 39, "shares 1024 -> weight 39, as runc");
	ok(cgroup_cpu_weight(262144) == 10000, "shares 262144 -> weight 10000");
}

static void test_spec(void)
{
	struct oci_resources res = { 0 };
	struct cgroup_limits l;
	novm_error_t err = NULL;

	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) == 0 && !*l.memory_max && !*l.cpu_max &&
	   !*l.cpu_weight && !*l.pids_max, "no resources: nothing written");

	res = (struct oci_resources){
		.has_memory_limit = true, .memory_limit = 100 * MiB,
		.has_cpu_quota = true, .cpu_quota = 50000,
		.has_cpu_period = true, .cpu_period = 100000,
		.has_pids_limit = true, .pids_limit = 100,
		.has_cpu_shares = true, .cpu_shares = 1024,
	};
	ok(cgroup_limits_for_spec(&res, 228 * MiB, &l, &err) == 0, "a full spec");
	char want[32];
	snprintf(want, sizeof(want), "%llu", 228 * MiB + CGROUP_VMM_OVERHEAD);
	ok(!strcmp(l.memory_max, want), "memory.max is the guest's RAM + the VMM's overhead: %s",
	   l.memory_max);
	ok(!strcmp(l.cpu_max, "50000 100000"), "a fractional CPU stays a fraction: %s", l.cpu_max);
	ok(!strcmp(l.cpu_weight, "39"), "cpu.weight from shares: %s", l.cpu_weight);
	ok(!strcmp(l.pids_max, "228"), "pids.max: the limit and the VMM's threads (%s)", l.pids_max);

	res = (struct oci_resources){ .has_cpu_period = true, .cpu_period = 50000,
				      .has_pids_limit = true, .pids_limit = 0,
				      .has_memory_limit = true, .memory_limit = -1 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) == 0 && !strcmp(l.cpu_max, "max 50000") &&
	   !strcmp(l.pids_max, "max") && !strcmp(l.memory_max, "max"),
	   "period without quota: \"max PERIOD\"; pids 0 and memory -1: \"max\"");
	res = (struct oci_resources){ .has_cpu_quota = true, .cpu_quota = -1,
				      .has_pids_limit = true, .pids_limit = -1,
				      .has_memory_limit = true, .memory_limit = 0 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) == 0 && !strcmp(l.cpu_max, "max") &&
	   !strcmp(l.pids_max, "max") && !*l.memory_max,
	   "quota -1 alone: \"max\"; memory 0: nothing");
	res = (struct oci_resources){ .has_cpu_quota = true, .cpu_quota = 150000 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) == 0 && !strcmp(l.cpu_max, "150000"),
	   "quota alone keeps the kernel's period: %s", l.cpu_max);

	res = (struct oci_resources){ .has_cpu_quota = true, .cpu_quota = 50000,
				      .has_cpu_period = true, .cpu_period = 500 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) < 0 &&
	   err_has(&err, "linux.resources.cpu.period: 500 is out of range"), "a period below 1 ms is refused");
	res = (struct oci_resources){ .has_cpu_period = true, .cpu_period = UINT64_MAX };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) < 0 && err_has(&err, "is out of range"),
	   "a huge period is refused");
	res = (struct oci_resources){ .has_cpu_quota = true, .cpu_quota = 999 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) < 0 &&
	   err_has(&err, "quota: 999 is below the kernel's minimum"), "a quota below 1 ms is refused");
	res = (struct oci_resources){ .has_cpu_shares = true, .cpu_shares = 1 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) < 0 &&
	   err_has(&err, "shares: 1 is out of range (2 to 262144)"), "shares 1 is refused");
	res = (struct oci_resources){ .has_cpu_shares = true, .cpu_shares = 262145 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) < 0 &&
	   err_has(&err, "shares: 262145 is out of range"), "shares above 262144 are refused");
	res = (struct oci_resources){ .has_cpu_shares = true, .cpu_shares = 0 };
	ok(cgroup_limits_for_spec(&res, 256 * MiB, &l, &err) == 0 && !*l.cpu_weight,
	   "shares 0: no weight");
}

/* The same spec, for the container's cgroup in the guest. */
static void test_guest(void)
{
	struct oci_resources res = { 0 };
	struct cgroup_limits l;
	novm_error_t err = NULL;

	ok(cgroup_limits_for_guest(&res, &l, &err) == 0 && !*l.memory_max && !*l.cpu_max &&
	   !*l.cpu_weight && !*l.pids_max, "guest, no resources: nothing written");
	res = (struct oci_resources){
		.has_memory_limit = true, .memory_limit = 100 * MiB,
		.has_cpu_quota = true, .cpu_quota = 50000,
		.has_cpu_period = true, .cpu_period = 100000,
		.has_pids_limit = true, .pids_limit = 100,
		.has_cpu_shares = true, .cpu_shares = 1024,
	};
	ok(cgroup_limits_for_guest(&res, &l, &err) == 0 && !strcmp(l.memory_max, "104857600") &&
	   !strcmp(l.cpu_max, "50000 100000") && !strcmp(l.cpu_weight, "39") &&
	   !strcmp(l.pids_max, "100"),
	   "guest: memory.max and pids.max are the limits themselves (%s, %s)", l.memory_max,
	   l.pids_max);
	res = (struct oci_resources){ .has_memory_limit = true, .memory_limit = -1,
				      .has_pids_limit = true, .pids_limit = -1 };
	ok(cgroup_limits_for_guest(&res, &l, &err) == 0 && !strcmp(l.memory_max, "max") &&
	   !strcmp(l.pids_max, "max"), "guest: -1 is \"max\"");
	res = (struct oci_resources){ .has_cpu_quota = true, .cpu_quota = 999 };
	ok(cgroup_limits_for_guest(&res, &l, &err) < 0 &&
	   err_has(&err, "quota: 999 is below the kernel's minimum"), "guest: the same checks");
}

static void test_update(void)
{
	struct cgroup_limits l;
	novm_error_t err = NULL;
	char want[32];

	ok(cgroup_limits_for_update(&(struct cgroup_update){ .cpu_quota = 25000, .pids = 50 },
				    256 * MiB, 0, NULL, &l, &err) == 0 &&
	   !strcmp(l.cpu_max, "25000") && !strcmp(l.pids_max, "178") && !*l.memory_max && !*l.cpu_weight,
	   "quota and pids: cpu.max keeps its period, pids.max with the VMM's threads");
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .cpu_period = 50000 }, 256 * MiB, 0,
				    "25000 100000\n", &l, &err) == 0 && !strcmp(l.cpu_max, "25000 50000"),
	   "a period alone keeps the quota: %s", l.cpu_max);
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .cpu_period = 50000 }, 256 * MiB, 0, NULL,
				    &l, &err) == 0 && !strcmp(l.cpu_max, "max 50000"),
	   "a period alone, cpu.max unknown: %s", l.cpu_max);
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .cpu_quota = -1, .pids = -1, .memory = -1,
							      .cpu_shares = 512 },
				    256 * MiB, 0, NULL, &l, &err) == 0 &&
	   !strcmp(l.cpu_max, "max") && !strcmp(l.pids_max, "max") && !strcmp(l.memory_max, "max") &&
	   !strcmp(l.cpu_weight, "20"), "-1 is \"max\"; shares 512 -> weight 20");

	ok(cgroup_limits_for_update(&(struct cgroup_update){ .memory = 100 * MiB }, 256 * MiB, 0, NULL,
				    &l, &err) == 0, "a memory limit the VM holds");
	snprintf(want, sizeof(want), "%llu", 228 * MiB + CGROUP_VMM_OVERHEAD);
	ok(!strcmp(l.memory_max, want), "memory.max as create would size it: %s", l.memory_max);
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .memory = 128 * MiB }, 256 * MiB, 0, NULL,
				    &l, &err) == 0, "the largest limit the VM holds");
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .memory = 128 * MiB + 1 }, 256 * MiB, 0,
				    NULL, &l, &err) < 0 &&
	   err_has(&err, "its RAM was fixed at 256 MiB when it booted (no balloon to grow it), "
			 "enough for a limit of at most 134217728"),
	   "one byte more is refused, saying why");
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .memory = 512 * MiB }, 256 * MiB,
				    512 * MiB, NULL, &l, &err) == 0,
	   "the limit the VM was created with passes (docker sends all resources)");
	snprintf(want, sizeof(want), "%llu", 256 * MiB + CGROUP_VMM_OVERHEAD);
	ok(!strcmp(l.memory_max, want), "... and gives what create wrote: %s", l.memory_max);
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .memory = 100 * MiB }, 0, 0, NULL, &l,
				    &err) < 0 && err_has(&err, "size is not recorded"),
	   "an unknown VM size refuses a new limit");

	ok(cgroup_limits_for_update(&(struct cgroup_update){ .cpu_quota = 500 }, 256 * MiB, 0, NULL, &l,
				    &err) < 0 && err_has(&err, "cpu-quota: 500 is below"),
	   "update: a quota below 1 ms is refused");
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .cpu_period = -1 }, 256 * MiB, 0, NULL, &l,
				    &err) < 0 && err_has(&err, "cpu-period: -1"),
	   "update: period -1 is refused");
	ok(cgroup_limits_for_update(&(struct cgroup_update){ .cpu_shares = 1 }, 256 * MiB, 0, NULL, &l,
				    &err) < 0 && err_has(&err, "cpu-shares: 1 is out of range"),
	   "update: shares 1 is refused");
}

static char *slurp(const char *dir, const char *name)
{
	char path[4096], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, &text, &len, NULL) < 0)
		return NULL;
	return text;
}

static void touch(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	close(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
}

/* A directory stands for the cgroup: the files present are the
 * controllers enabled; the others must be warnings, not failures. */
static void test_write(void)
{
	char root[] = "/tmp/novm-test-cgroup.XXXXXX", dir[4096], deep[4096];
	struct cgroup_limits l = { .memory_max = "12345", .cpu_max = "50000 100000",
				   .pids_max = "100" };
	novm_error_t err = NULL;

	if (!mkdtemp(root)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/ctr", root);
	mkdir(dir, 0755);
	touch(dir, "memory.max");
	touch(dir, "cpu.max");
	ok(cgroup_prepare(root, dir, &l, "c1", &err) == 0, "an existing cgroup, pids not enabled");
	char *m = slurp(dir, "memory.max"), *c = slurp(dir, "cpu.max");
	ok(m && !strcmp(m, "12345"), "memory.max written");
	ok(c && !strcmp(c, "50000 100000"), "cpu.max written");
	ok(access(dir, F_OK) == 0 && !slurp(dir, "pids.max"), "pids.max not made: a warning");
	free(m);
	free(c);

	snprintf(deep, sizeof(deep), "%s/a/b/c", root);
	ok(cgroup_prepare(root, deep, &l, "c2", &err) == 0 && access(deep, F_OK) == 0,
	   "each component made");
	snprintf(deep, sizeof(deep), "/elsewhere/x");
	ok(cgroup_prepare(root, deep, &l, "c3", &err) < 0 && err_has(&err, "is not under"),
	   "a directory outside the root is refused");
	if (fork() == 0)
		execlp("rm", "rm", "-rf", root, (char *)NULL);
	else
		wait(NULL);
}

int main(void)
{
	test_weight();
	test_spec();
	test_guest();
	test_update();
	test_write();
	return tap_done();
}
