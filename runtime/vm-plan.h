/* From an OCI bundle to the VM that runs it: size, kernel, initramfs,
 * the virtio-fs shares (rootfs and bind mounts) and the configuration the
 * agent receives. */
#ifndef NOVM_RUNTIME_VM_PLAN_H
#define NOVM_RUNTIME_VM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "netconf.h"
#include "oci/spec.h"
#include "vmm/kstore/kstore.h"
#include "vmm/vmm.h"

#define CONTAINER_ROOTFS_TAG "rootfs"

struct container_vm {
	int vcpus;
	uint64_t memory;
	struct kernel_ref kernel;
	char *initrd;
	char *cmdline;
	struct vm_share *shares;
	char **share_tags;	/* owned strings behind shares[].tag */
	char **share_paths;	/* owned strings behind shares[].path, when not the mount's source */
	int nr_shares;
	char *resolv_conf;	/* the file mounted at /etc/resolv.conf, or NULL */
	char *dns_relay;	/* a loopback resolver of the namespace, or NULL */
	char *agent_config;	/* PROTO_CONFIG payload */
	size_t agent_config_len;
};

/* The agent is sent spec->text, config.json as read and checked, verbatim;
 * `start` asks it to start the process without waiting for PROTO_START. */
int container_vm_prepare(const struct oci_spec *spec, bool start, struct container_vm *out,
			 novm_error_t *err);

/* Adds the guest's network (netconf.h) to the agent's configuration, with
 * the DNS relay when resolv.conf (as the create hooks left it) names a
 * loopback nameserver. */
int container_vm_set_network(struct container_vm *vm, const struct net_plan *plan,
			     novm_error_t *err);
void container_vm_release(struct container_vm *vm);

#endif
