/* VM sizing from a bundle: cgroup limits, then vm.hwConfig, then the
 * org.novm.* annotations; the kernel choice; malformed values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "oci/spec.h"
#include "oci/vm-size.h"

#define MiB (1ULL << 20)

/* "/" is both bundle and rootfs, so no files are needed. */
#define BASE "\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"/\"}, " \
	     "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"

static struct oci_spec *load(const char *members)
{
	char *text = NULL;
	struct oci_spec *spec = NULL;
	novm_error_t err = NULL;

	if (asprintf(&text, "{" BASE "%s%s}", *members ? ", " : "", members) < 0)
		exit(99);
	if (oci_spec_parse("/", text, strlen(text), &spec, &err) < 0) {
		printf("# cannot parse %s: %s\n", text, err->msg);
		novm_error_release(&err);
	}
	free(text);
	return spec;
}

static void expect_size(const char *members, int want_cpus, uint64_t want_mem, const char *what)
{
	struct oci_spec *spec = load(members);
	novm_error_t err = NULL;
	int cpus = -1;
	uint64_t mem = 0;

	ok(spec && oci_vm_size(spec, &cpus, &mem, &err) == 0 && cpus == want_cpus && mem == want_mem,
	   "%s: %d vCPUs, %llu MiB%s%s", what, cpus, (unsigned long long)(mem / MiB),
	   err ? " - " : "", err ? err->msg : "");
	novm_error_release(&err);
	oci_spec_free(spec);
}

static void expect_size_error(const char *members, const char *want, const char *what)
{
	struct oci_spec *spec = load(members);
	novm_error_t err = NULL;
	int cpus = -1;
	uint64_t mem = 0;

	ok(spec && oci_vm_size(spec, &cpus, &mem, &err) < 0 && err && strcmp(err->msg, want) == 0,
	   "%s: %s", what, err ? err->msg : "(no error)");
	novm_error_release(&err);
	oci_spec_free(spec);
}

#define CPU(...) "\"linux\": {\"resources\": {\"cpu\": {" __VA_ARGS__ "}}}"
#define MEM(limit) "\"linux\": {\"resources\": {\"memory\": {\"limit\": " limit "}}}"
#define ANN(...) "\"annotations\": {" __VA_ARGS__ "}"

static void test_from_resources(void)
{
	expect_size("", 1, 256 * MiB, "no limits: 1 vCPU, 256 MiB");
	expect_size(CPU("\"quota\": 150000, \"period\": 100000"), 2, 256 * MiB,
		    "quota 1.5 CPUs rounds up to 2");
	expect_size(CPU("\"quota\": 300000, \"period\": 100000"), 3, 256 * MiB, "quota 3 CPUs");
	expect_size(CPU("\"quota\": 50000"), 1, 256 * MiB, "quota without period: 100 ms period");
	expect_size(CPU("\"quota\": 250000"), 3, 256 * MiB, "quota 2.5 CPUs, default period");
	expect_size(CPU("\"cpus\": \"0-3,6\""), 5, 256 * MiB, "cpuset 0-3,6 is 5 CPUs");
	expect_size(CPU("\"quota\": 100000, \"period\": 100000, \"cpus\": \"0-7\""), 1, 256 * MiB,
		    "quota wins over the cpuset");
	expect_size(CPU("\"quota\": -1, \"cpus\": \"2,4\""), 2, 256 * MiB,
		    "unlimited quota falls back to the cpuset");
	expect_size(CPU("\"quota\": 100000000, \"period\": 1000"), OCI_VM_MAX_VCPUS, 256 * MiB,
		    "a quota beyond the VMM's maximum is capped");
	expect_size(MEM("536870912"), 1, 640 * MiB, "512 MiB limit + 128 MiB overhead");
	expect_size(MEM("100000000"), 1, 224 * MiB, "unaligned limit rounded up to a MiB");
	expect_size(MEM("-1"), 1, 256 * MiB, "unlimited memory: the default");
	expect_size(MEM("9223372036854775807"), 1, OCI_VM_MAX_MEMORY, "huge limit capped");
}

static void test_overrides(void)
{
	expect_size(CPU("\"quota\": 300000") ", " MEM("536870912") ", "
		    "\"vm\": {\"hwConfig\": {\"vcpus\": 4, \"memory\": 1073741824}}",
		    4, 1024 * MiB, "vm.hwConfig overrides the cgroup limits (memory in bytes)");
	expect_size("\"vm\": {\"hwconfig\": {\"memory\": 100000000}}", 1, 96 * MiB,
		    "specs-go's hwconfig spelling; bytes rounded up to a MiB");
	expect_size("\"vm\": {\"hwConfig\": {\"vcpus\": 4, \"memory\": 1073741824}}, "
		    ANN("\"org.novm.cpus\": \"8\", \"org.novm.memory\": \"2048\""),
		    8, 2048 * MiB, "annotations override vm.hwConfig");
	expect_size(CPU("\"cpus\": \"0-5\"") ", " ANN("\"org.novm.memory\": \"512\""), 6, 512 * MiB,
		    "annotations override one value, the other still derived");
	expect_size(ANN("\"org.novm.cpus\": \"64\", \"org.novm.memory\": \"32\""), 64, 32 * MiB,
		    "annotation limits are inclusive");
}

/* containerd's pod sizing on a sandbox's spec (Kubernetes' sums). */
static void test_pod_annotations(void)
{
	expect_size(ANN("\"io.kubernetes.cri.sandbox-cpu-quota\": \"250000\", "
			"\"io.kubernetes.cri.sandbox-cpu-period\": \"100000\", "
			"\"io.kubernetes.cri.sandbox-memory\": \"536870912\""),
		    3, 640 * MiB, "a pod of 2.5 CPUs and 512 MiB: 3 vCPUs, 640 MiB");
	expect_size(CPU("\"quota\": 100000") ", " MEM("268435456") ", "
		    ANN("\"io.kubernetes.cri.sandbox-cpu-quota\": \"200000\", "
			"\"io.kubernetes.cri.sandbox-memory\": \"1073741824\""),
		    2, 1152 * MiB, "the pod's sums override the sandbox's own limits");
	expect_size(CPU("\"quota\": 300000") ", "
		    ANN("\"io.kubernetes.cri.sandbox-cpu-quota\": \"0\", "
			"\"io.kubernetes.cri.sandbox-cpu-period\": \"0\", "
			"\"io.kubernetes.cri.sandbox-memory\": \"0\""),
		    3, 256 * MiB, "a pod without limits (0) leaves the rest as it is");
	expect_size(ANN("\"io.kubernetes.cri.sandbox-cpu-quota\": \"-1\""), 1, 256 * MiB,
		    "quota -1: no limit");
	expect_size(ANN("\"io.kubernetes.cri.sandbox-memory\": \"1073741824\", "
			"\"org.novm.memory\": \"512\""),
		    1, 512 * MiB, "org.novm.memory overrides the pod's sum");
	expect_size_error(ANN("\"io.kubernetes.cri.sandbox-memory\": \"1G\""),
			  "annotation io.kubernetes.cri.sandbox-memory: \"1G\" is not a size in bytes",
			  "bad pod memory");
	expect_size_error(ANN("\"io.kubernetes.cri.sandbox-cpu-quota\": \"-5\""),
			  "annotation io.kubernetes.cri.sandbox-cpu-quota: \"-5\" is not a quota in microseconds",
			  "bad pod quota");
}

static void test_bad_annotations(void)
{
	static const char *const bad_cpus[] = { "0", "65", "abc", "-1", "2 ", " 2", "", "1.5", "0x2" };
	static const char *const bad_mem[] = { "16", "1x", "512M", "99999999999999999999", "" };
	char members[128], want[160];

	for (size_t i = 0; i < sizeof(bad_cpus) / sizeof(bad_cpus[0]); i++) {
		snprintf(members, sizeof(members), ANN("\"org.novm.cpus\": \"%s\""), bad_cpus[i]);
		snprintf(want, sizeof(want),
			 "annotation org.novm.cpus: \"%s\" is not a number of vCPUs (1 to 64)", bad_cpus[i]);
		expect_size_error(members, want, "bad org.novm.cpus");
	}
	for (size_t i = 0; i < sizeof(bad_mem) / sizeof(bad_mem[0]); i++) {
		snprintf(members, sizeof(members), ANN("\"org.novm.memory\": \"%s\""), bad_mem[i]);
		snprintf(want, sizeof(want),
			 "annotation org.novm.memory: \"%s\" is not a memory size in MiB (32 to 1048576)",
			 bad_mem[i]);
		expect_size_error(members, want, "bad org.novm.memory");
	}
}

static void test_kernel(void)
{
	struct oci_spec *spec;
	novm_error_t err = NULL;
	const char *kernel = "unset";
	bool store_only = true;

	spec = load("");
	ok(spec && oci_vm_kernel(spec, false, &kernel, &store_only, &err) == 0 && kernel == NULL,
	   "no kernel given: the store's default");
	oci_spec_free(spec);

	spec = load("\"vm\": {\"kernel\": {\"path\": \"/boot/vmlinuz\"}}");
	ok(spec && oci_vm_kernel(spec, false, &kernel, &store_only, &err) == 0 && kernel &&
	   strcmp(kernel, "/boot/vmlinuz") == 0 && !store_only,
	   "vm.kernel.path (the bundle's own section: a path is fine)");
	oci_spec_free(spec);

	spec = load("\"vm\": {\"kernel\": {\"path\": \"/boot/vmlinuz\"}}, "
		    ANN("\"org.novm.kernel\": \"debian-6.1\""));
	ok(spec && oci_vm_kernel(spec, false, &kernel, &store_only, &err) == 0 && kernel &&
	   strcmp(kernel, "debian-6.1") == 0 && store_only,
	   "org.novm.kernel overrides vm.kernel.path, resolved in the store only");
	oci_spec_free(spec);

	spec = load(ANN("\"org.novm.kernel\": \"\""));
	ok(spec && oci_vm_kernel(spec, false, &kernel, &store_only, &err) < 0 && err &&
	   strcmp(err->msg, "annotation org.novm.kernel: empty kernel name") == 0,
	   "empty org.novm.kernel refused");
	novm_error_release(&err);
	oci_spec_free(spec);

	/* A host file named by an annotation: refused unless allowed. */
	static const char *const paths[] = { "/etc/shadow", "../../boot/vmlinuz", "kernels/x", ".", ".." };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char ann[128], want[256];
		snprintf(ann, sizeof(ann), ANN("\"org.novm.kernel\": \"%s\""), paths[i]);
		snprintf(want, sizeof(want),
			 "annotation org.novm.kernel: \"%s\" is not a kernel store name (host paths "
			 "need NOVM_ALLOW_KERNEL_PATHS=1 in the runtime's environment)", paths[i]);
		spec = load(ann);
		ok(spec && oci_vm_kernel(spec, false, &kernel, &store_only, &err) < 0 && err &&
			   strcmp(err->msg, want) == 0,
		   "org.novm.kernel \"%s\" refused: %s", paths[i], err ? err->msg : "(accepted)");
		novm_error_release(&err);
		ok(spec && oci_vm_kernel(spec, true, &kernel, &store_only, &err) == 0 &&
			   strcmp(kernel, paths[i]) == 0 && !store_only,
		   "... and allowed, as a path, when the administrator allows paths");
		oci_spec_free(spec);
	}
}

static void test_cpuset(void)
{
	static const struct {
		const char *s;
		long count;
	} cases[] = {
		{ "0", 1 }, { "0-3", 4 }, { "0-3,6", 5 }, { "1,3,5-7", 5 }, { "5-5", 1 },
		{ "", -1 }, { "3-1", -1 }, { "a", -1 }, { "1,", -1 }, { "1-", -1 }, { ",1", -1 },
		{ "0-1048576", -1 }, { "1 ", -1 }, { "-1", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long n = oci_cpuset_count(cases[i].s);

		ok(n == cases[i].count, "cpuset \"%s\" -> %ld", cases[i].s, n);
	}
}

int main(void)
{
	test_from_resources();
	test_overrides();
	test_pod_annotations();
	test_bad_annotations();
	test_kernel();
	test_cpuset();
	return tap_done();
}
