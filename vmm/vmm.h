/* The VMM's public face: what the runtime (and the `novm` CLI) use to run
 * a VM.  Everything else under vmm/ is the VMM's own, except the kernel
 * store's public header vmm/kstore/kstore.h.  From outside vmm/, include
 * it as "vmm/vmm.h".  It also brings tuntap.h: the runtime makes the taps
 * the guest's NICs use. */
#ifndef NOVM_VMM_H
#define NOVM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tuntap.h"

/* Why the VM stopped; decides the VMM's exit status. */
enum vm_exit_reason {
	VM_RUNNING = 0,
	VM_EXIT_RESET,		/* guest asked for reset (i8042 / 0xcf9): clean stop */
	VM_EXIT_TRIPLE_FAULT,	/* KVM_EXIT_SHUTDOWN: panic with reboot=t, or a crash */
	VM_EXIT_PANIC,		/* pvpanic reported a guest kernel panic */
	VM_EXIT_ERROR,		/* KVM or VMM failure */
	VM_EXIT_SIGNAL,		/* the VMM was asked to stop */
	VM_EXIT_CONTAINER,	/* the container's process ended (agent link) */
};

/* A host directory served to the guest by a virtio-fs device. */
struct vm_share {
	const char *tag;
	const char *path;
	bool readonly;
	/* Writable until the agent reports the container created, read-only
	 * after: the container's own mount points (runc makes them in a
	 * read-only root too) are made before any of its code runs. */
	bool readonly_once_created;
	/* A single-file share: path is the file's directory and the guest
	 * sees only this entry of it.  NULL: the whole directory. */
	const char *only_name;
};

/* A guest NIC: a virtio-net device on an existing tap interface, by name
 * or (tap NULL) an fd of it the caller keeps; or (tap NULL, tap_fd -1) a
 * spare, link down until the control socket's `nics` connects it. */
struct vm_nic {
	const char *tap;	/* the tap interface's name */
	int tap_fd;		/* when tap is NULL; -1: a spare */
	uint8_t mac[6];		/* the guest's MAC address */
};

/* Container mode: the agent channel (proto/agent.h), served by the agent
 * link (vmm/channel/agent-link.h). */
struct agent_link_config {
	int stdin_fd;		/* -1: the process gets EOF at once */
	int stdout_fd, stderr_fd;
	const char *config;	/* PROTO_CONFIG payload (JSON), sent on PROTO_READY */
	size_t config_len;
	const char *dns_server;	/* the namespace's resolver the guest's DNS relay
				 * reaches (channel/dns-forward.h), or NULL */
};

struct vm_config {
	const char *kernel_path;	/* ELF vmlinux */
	const char *setup_header_path;	/* optional bzImage to copy the setup header from */
	const char *initrd_path;	/* optional */
	const char *cmdline;
	int nr_cpus;
	uint64_t mem_size;
	int console_fd;			/* where the UART writes */
	int console_in_fd;		/* guest console input, or -1 */
	/* console_fd is a log file a guest must not grow without bound: kept
	 * under NOVM_CONSOLE_LOG_CAP (lib/capped-file.h) if a regular file. */
	bool console_capped;
	const struct vm_share *shares;
	int nr_shares;
	/* A pod's sandbox VM (proto/agent.h, "Pods"): one more virtio-fs
	 * device, tag PROTO_POD_TAG, whose root shows only what the control
	 * socket's graft requests put there; the pod's further containers
	 * are created in this VM with the control socket's container
	 * request.  No share of shares[] may use that tag then. */
	bool pod_share;
	const struct vm_nic *nics;
	int nr_nics;
	/* Container mode: the agent channel; NULL for a bare VM.  Stop signals
	 * are then forwarded to the container's process instead. */
	const struct agent_link_config *agent;
	/* Container mode: where the control socket (control.h) listens; NULL
	 * for none. */
	const char *control_socket;
	/* Container mode: told "ok\n" once the agent reports the container
	 * created, or "error <message>\n" if the VM fails before; then closed.
	 * -1 (or 0, so configs that do not mention it work) for none. */
	int ready_fd;
};

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
