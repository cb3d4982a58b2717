/* From an OCI bundle to the VM that runs it: size, kernel, initramfs,
 * the virtio-fs shares (rootfs and bind mounts) and the configuration the
 * agent receives. */
#ifndef NOVM_RUNTIME_VM_PLAN_H
#define NOVM_RUNTIME_VM_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
	bool pod_share;		/* a pod's sandbox: the VM gets the pod share */
	char *agent_config;	/* PROTO_CONFIG payload */
	size_t agent_config_len;
};

/* One tree of the container's files the guest is given: its root or a
 * bind mount's source (a directory or a single file). */
struct share_plan {
	const char *destination;	/* "/" for the root */
	const char *source;		/* root.path, or the mount's source */
	size_t mount_index;		/* in spec->mounts (not for the root) */
	bool is_root, is_dir;
	bool readonly;
};

/* Makes one share available to the guest; says under which tag (and, for
 * a share serving one entry, its "path") the agent finds it. */
typedef int (*share_fn)(void *opaque, const struct share_plan *s, const char **tag,
			const char **path, novm_error_t *err);

/* The shares of a spec, the root first, then its bind mounts in order: fn
 * for each, and the agent's "shares" array of them written to json.  A VM
 * makes each a virtio-fs device (container_vm_prepare), a pod container a
 * graft of its sandbox's pod share (pod-create.c). */
int container_shares_each(const struct oci_spec *spec, share_fn fn, void *opaque, FILE *json,
			  novm_error_t *err);

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
