/* The VM's devices: one ordered table of attach/detach steps, the only
 * place that says which devices a VM has and in what order they come up.
 * Detaching runs in reverse, on a failed attach and at teardown.  A new
 * device is its own file exposing an attach/detach pair
 * (vmm-internal.h) plus one line here; a step that adds several devices
 * (a virtio-fs per share) loops in its attach. */
#include "vmm-internal.h"

#include "channel/agent-link.h"
#include "channel/control.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "virtio/fs.h"
#include "virtio/net.h"
#include "virtio/rng.h"

struct device_step {
	const char *name;	/* for whoever walks the devices (diagnosis, snapshots) */
	vmm_attach_fn *attach;
	vmm_detach_fn *detach;
};

static const struct device_step device_steps[] = {
	{ "serial", serial_attach, serial_detach },
	{ "i8042", i8042_attach, i8042_detach },
	{ "rtc", rtc_attach, rtc_detach },
	/* The virtio devices below sit on the PCI bus. */
	{ "pci", pci_attach, pci_detach },
	{ "virtio-rng", virtio_rng_attach, virtio_rng_detach },
	{ "virtio-fs", virtio_fs_attach, virtio_fs_detach },
	{ "virtio-net", virtio_net_attach, virtio_net_detach },
	/* The agent link's virtio-console; then the control socket, which
	 * drives the agent link. */
	{ "agent-link", agent_link_attach, agent_link_detach },
	{ "control", control_attach, control_detach },
};

#define NR_DEVICE_STEPS (sizeof(device_steps) / sizeof(device_steps[0]))

static int step_attach(size_t i, void *opaque, novm_error_t *err)
{
	struct vmm *vmm = opaque;

	return device_steps[i].attach(vmm, vmm->cfg, err);
}

static void step_detach(size_t i, void *opaque)
{
	device_steps[i].detach(opaque);
}

int vmm_devices_attach(struct vmm *vmm, novm_error_t *err)
{
	vmm->devices = (struct init_steps){
		.nr = NR_DEVICE_STEPS,
		.init = step_attach,
		.exit = step_detach,
		.opaque = vmm,
	};
	return init_steps_run(&vmm->devices, err);
}

/* Also for a VM that failed before its devices: nothing is up then. */
void vmm_devices_detach(struct vmm *vmm)
{
	init_steps_unwind(&vmm->devices);
}
