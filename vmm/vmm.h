#ifndef NOVM_VMM_H
#define NOVM_VMM_H

#include "error.h"
#include "vm.h"

#define VMM_MIN_MEMORY (32ULL << 20)
#define VMM_MAX_CPUS 64

struct vmm_result {
	enum vm_exit_reason reason;
	char message[512];	/* why the guest stopped, for the user */
};

/* Builds the VM from `cfg`, runs it until the guest stops, tears it down.
 * Returns <0 with *err when the VM could not be built; otherwise 0 with the
 * way the guest ended in *result. */
int vmm_run(const struct vm_config *cfg, struct vmm_result *result, novm_error_t *err);

#endif
