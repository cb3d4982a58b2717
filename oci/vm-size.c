#include "vm-size.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

long oci_cpuset_count(const char *cpus)
{
	const char *p = cpus;
	long count = 0;

	/* "a", "a-b", comma separated; the kernel's list format */
	for (;;) {
		char *end;
		unsigned long first, last;

		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		first = strtoul(p, &end, 10);
		last = first;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			last = strtoul(p, &end, 10);
			p = end;
		}
		/* a CPU number beyond any machine is a typo, not a count */
		if (errno || last < first || last >= 1UL << 20)
			return -1;
		count += last - first + 1;
		if (*p == '\0')
			return count;
		if (*p++ != ',')
			return -1;
	}
}

static uint64_t round_up_mib(uint64_t bytes)
{
	return (bytes + OCI_MiB - 1) / OCI_MiB * OCI_MiB;
}

/* A plain decimal number in [min, max]; no sign, unit or spaces. */
static bool parse_annotation_number(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int size_from_resources(const struct oci_resources *res, int *vcpus, uint64_t *mem,
			       novm_error_t *err)
{
	uint64_t n = 1;

	if (res->has_cpu_quota && res->cpu_quota > 0) {
		uint64_t period = res->has_cpu_period && res->cpu_period ? res->cpu_period
									  : OCI_DEFAULT_CPU_PERIOD;
		n = ((uint64_t)res->cpu_quota + period - 1) / period;
	} else if (res->cpus && *res->cpus) {
		long count = oci_cpuset_count(res->cpus);

		if (count < 0)
			return novm_error(err, 0, "linux.resources.cpu.cpus: invalid cpuset \"%s\"",
					  res->cpus);
		n = count;
	}
	*vcpus = n > OCI_VM_MAX_VCPUS ? OCI_VM_MAX_VCPUS : (int)n;

	/* 0 and -1 both mean "no limit" in practice */
	if (res->has_memory_limit && res->memory_limit > 0)
		*mem = oci_vm_memory_for_limit(res->memory_limit);
	else
		*mem = OCI_VM_DEFAULT_MEMORY;
	return 0;
}

/* containerd's sizing of a pod (Kubernetes' sums over its containers),
 * on the sandbox's spec: each present value overrides the resources'. */
static int size_from_pod(const struct oci_spec *spec, int *vcpus, uint64_t *mem,
			 novm_error_t *err)
{
	const char *quota = oci_spec_annotation(spec, OCI_ANNOTATION_POD_CPU_QUOTA);
	const char *period = oci_spec_annotation(spec, OCI_ANNOTATION_POD_CPU_PERIOD);
	const char *memory = oci_spec_annotation(spec, OCI_ANNOTATION_POD_MEMORY);
	uint64_t q, p = OCI_DEFAULT_CPU_PERIOD, m;

	/* "0" (or a quota of -1) is what a pod without limits gets. */
	if (period && !parse_annotation_number(period, 0, UINT32_MAX, &p))
		return novm_error(err, 0, "annotation %s: \"%s\" is not a period in microseconds",
				  OCI_ANNOTATION_POD_CPU_PERIOD, period);
	if (quota && strcmp(quota, "-1")) {
		if (!parse_annotation_number(quota, 0, INT64_MAX, &q))
			return novm_error(err, 0, "annotation %s: \"%s\" is not a quota in microseconds",
					  OCI_ANNOTATION_POD_CPU_QUOTA, quota);
		if (q) {
			uint64_t n = (q + (p ? p : OCI_DEFAULT_CPU_PERIOD) - 1) /
				     (p ? p : OCI_DEFAULT_CPU_PERIOD);
			*vcpus = n > OCI_VM_MAX_VCPUS ? OCI_VM_MAX_VCPUS : (int)n;
		}
	}
	if (memory) {
		if (!parse_annotation_number(memory, 0, INT64_MAX, &m))
			return novm_error(err, 0, "annotation %s: \"%s\" is not a size in bytes",
					  OCI_ANNOTATION_POD_MEMORY, memory);
		if (m)
			*mem = oci_vm_memory_for_limit(m);
	}
	return 0;
}

uint64_t oci_vm_memory_for_limit(uint64_t limit)
{
	if (limit > OCI_VM_MAX_MEMORY - OCI_VM_MEMORY_OVERHEAD)
		return OCI_VM_MAX_MEMORY;
	return round_up_mib(limit + OCI_VM_MEMORY_OVERHEAD);
}

int oci_vm_size(const struct oci_spec *spec, int *vcpus, uint64_t *mem_bytes,
		novm_error_t *err)
{
	static const struct oci_resources no_resources;
	const struct oci_resources *res = spec->has_linux ? &spec->linux_.resources : &no_resources;
	const char *value;
	uint64_t n;
	int cpus = 1;
	uint64_t mem = OCI_VM_DEFAULT_MEMORY;

	if (size_from_resources(res, &cpus, &mem, err) < 0 || size_from_pod(spec, &cpus, &mem, err) < 0)
		return -1;
	if (spec->vm && spec->vm->has_vcpus)
		cpus = spec->vm->vcpus;
	if (spec->vm && spec->vm->has_memory)
		mem = round_up_mib(spec->vm->memory);

	value = oci_spec_annotation(spec, OCI_ANNOTATION_CPUS);
	if (value) {
		if (!parse_annotation_number(value, 1, OCI_VM_MAX_VCPUS, &n))
			return novm_error(err, 0,
					  "annotation %s: \"%s\" is not a number of vCPUs (1 to %d)",
					  OCI_ANNOTATION_CPUS, value, OCI_VM_MAX_VCPUS);
		cpus = n;
	}
	value = oci_spec_annotation(spec, OCI_ANNOTATION_MEMORY);
	if (value) {
		if (!parse_annotation_number(value, OCI_VM_MIN_MEMORY / OCI_MiB,
					     OCI_VM_MAX_MEMORY / OCI_MiB, &n))
			return novm_error(err, 0,
					  "annotation %s: \"%s\" is not a memory size in MiB (%llu to %llu)",
					  OCI_ANNOTATION_MEMORY, value, OCI_VM_MIN_MEMORY / OCI_MiB,
					  OCI_VM_MAX_MEMORY / OCI_MiB);
		mem = n * OCI_MiB;
	}
	*vcpus = cpus;
	*mem_bytes = mem;
	return 0;
}

int oci_vm_kernel(const struct oci_spec *spec, bool allow_paths, const char **kernel,
		  bool *store_only, novm_error_t *err)
{
	const char *value = oci_spec_annotation(spec, OCI_ANNOTATION_KERNEL);

	*store_only = false;
	if (value) {
		if (!*value)
			return novm_error(err, 0, "annotation %s: empty kernel name",
					  OCI_ANNOTATION_KERNEL);
		if (!allow_paths && (strchr(value, '/') || !strcmp(value, ".") || !strcmp(value, "..")))
			return novm_error(err, 0,
					  "annotation %s: \"%s\" is not a kernel store name (host paths "
					  "need %s=1 in the runtime's environment)",
					  OCI_ANNOTATION_KERNEL, value, OCI_ALLOW_KERNEL_PATHS_ENV);
		*store_only = !allow_paths;
		*kernel = value;
		return 0;
	}
	*kernel = spec->vm ? spec->vm->kernel_path : NULL;
	return 0;
}
