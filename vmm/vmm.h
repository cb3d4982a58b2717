#ifndef NOVM_VMM_H
#define NOVM_VMM_H

#include "error.h"
#include "kvm.h"

#define VMM_MIN_MEMORY (32ULL << 20)
#define VMM_MAX_CPUS 64

/* Why each default parameter:
 *  reboot=t panic=-1  a panic resets at once by triple fault, which we report
 *                     as a failure; the agent switches to a keyboard-controller
 *                     reset for a clean stop.
 *  8250.nr_uarts=1 i8042.*  don't probe hardware that is not there.
 *  io_delay=none      port 0x80 delays would each exit to the VMM.
 *  quiet              every console byte is a VM exit; `--cmdline loglevel=7`
 *                     brings the messages back. */
#define VMM_DEFAULT_CMDLINE                                                                      \
	"console=ttyS0 reboot=t panic=-1 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp " \
	"i8042.dumbkbd io_delay=none quiet"

struct vmm_result {
	enum vm_exit_reason reason;
	char message[512];	/* why the guest stopped, for the user */
	/* Container mode: the process's status (exit code or 128+signal) and
	 * terminating signal, -1 if it never reported; the agent's error. */
	int container_status;
	int container_signal;
	char agent_error[512];
	bool created;	/* container mode: the runtime was told "created" */
};

/* Builds the VM from `cfg`, runs it until the guest stops, tears it down.
 * Returns <0 with *err when the VM could not be built; otherwise 0 with the
 * way the guest ended in *result. */
int vmm_run(const struct vm_config *cfg, struct vmm_result *result, novm_error_t *err);

/* Ends the process the way the container's process ended, for a VMM that
 * stands in for it (the child `novm-runc create` leaves behind, which a
 * shim waits on): its exit code, or death by the same signal (without a
 * core dump); exit 1 when the VM failed before the process reported. */
__attribute__((noreturn)) void vmm_exit_like_container(const struct vmm_result *res);

#endif
