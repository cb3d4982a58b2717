/* How big a container's VM is and which kernel it boots, from the bundle:
 * the container's cgroup limits first, then the runtime-spec `vm` section,
 * then novm's annotations, each later source overriding the earlier. */
#ifndef NOVM_OCI_VM_SIZE_H
#define NOVM_OCI_VM_SIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

#define OCI_ANNOTATION_CPUS "org.novm.cpus"		/* vCPUs */
#define OCI_ANNOTATION_MEMORY "org.novm.memory"	/* MiB */
#define OCI_ANNOTATION_KERNEL "org.novm.kernel"	/* kernel store name or path */
/* containerd's (1.7 and later) sizing of a Kubernetes pod, on its sandbox:
 * the sums of its containers' CFS quota (with its period) and memory limit
 * in bytes. */
#define OCI_ANNOTATION_POD_CPU_QUOTA "io.kubernetes.cri.sandbox-cpu-quota"
#define OCI_ANNOTATION_POD_CPU_PERIOD "io.kubernetes.cri.sandbox-cpu-period"
#define OCI_ANNOTATION_POD_MEMORY "io.kubernetes.cri.sandbox-memory"
/* Set to 1 by the administrator to let OCI_ANNOTATION_KERNEL name a path. */
#define OCI_ALLOW_KERNEL_PATHS_ENV "NOVM_ALLOW_KERNEL_PATHS"

#define OCI_MiB (1ULL << 20)
/* The VMM's limits (vmm/vmm.h), repeated so oci/ stays free of the VMM. */
#define OCI_VM_MAX_VCPUS 64
#define OCI_VM_MIN_MEMORY (32 * OCI_MiB)
#define OCI_VM_MAX_MEMORY (1ULL << 40)
/* Guest kernel, agent and page cache on top of the container's limit. */
#define OCI_VM_MEMORY_OVERHEAD (128 * OCI_MiB)
#define OCI_VM_DEFAULT_MEMORY (256 * OCI_MiB)
/* The kernel's CFS period when a quota comes without one. */
#define OCI_DEFAULT_CPU_PERIOD 100000

/* vCPUs: linux.resources.cpu quota/period rounded up, else the number of
 * CPUs in linux.resources.cpu.cpus, else 1; then containerd's pod quota
 * and period; then vm.hwConfig.vcpus; then the org.novm.cpus annotation.
 * Memory: linux.resources.memory.limit + OCI_VM_MEMORY_OVERHEAD, else
 * OCI_VM_DEFAULT_MEMORY; then containerd's pod memory + the overhead; then
 * vm.hwConfig.memory (bytes); then the org.novm.memory annotation (MiB).
 * Memory is a whole number of MiB.  Values derived from cgroup limits are capped at the VMM's maximum (such a
 * limit does not constrain anything); explicit values out of range, and
 * malformed annotations or cpusets, are errors. */
int oci_vm_size(const struct oci_spec *spec, int *vcpus, uint64_t *mem_bytes,
		novm_error_t *err);

/* The guest RAM oci_vm_size gives a memory limit (> 0): the limit plus
 * OCI_VM_MEMORY_OVERHEAD in whole MiB, at most OCI_VM_MAX_MEMORY. */
uint64_t oci_vm_memory_for_limit(uint64_t limit);

/* What to boot, for the kernel store: the org.novm.kernel annotation, else
 * vm.kernel.path, else NULL (the store's default kernel).
 * Annotations come from whoever starts a container (a Kubernetes pod's
 * reach the runtime), so unless allow_paths (the administrator's choice)
 * the annotation must be a kernel store name, never a host file: a '/',
 * "." or ".." is an error naming the annotation, and *store_only tells the
 * caller to resolve it in the store only. */
int oci_vm_kernel(const struct oci_spec *spec, bool allow_paths, const char **kernel,
		  bool *store_only, novm_error_t *err);

/* Number of CPUs in a cpuset list such as "0-3,6"; -1 when malformed. */
long oci_cpuset_count(const char *cpus);

#endif
