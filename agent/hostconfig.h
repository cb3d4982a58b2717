/* What the host sends the agent: the PROTO_CONFIG document (the bundle's
 * config.json plus how the host's directories are shared) and the process
 * objects of PROTO_EXEC.  Pure parsing, unit-tested on the host. */
#ifndef NOVM_AGENT_HOSTCONFIG_H
#define NOVM_AGENT_HOSTCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "netconfig.h"
#include "oci/spec.h"

/* The virtio-fs tag of the container's root when no share says otherwise. */
#define AGENT_ROOT_TAG "rootfs"
/* virtio-fs tags are at most 36 bytes (the device's config field). */
#define AGENT_TAG_MAX 36

/* One virtio-fs device of the VM.  The share whose destination is "/" is
 * the root.  Another share stands for the OCI bind mount whose source
 * equals its `source` (when given) or else whose destination equals its
 * `destination`; a share no mount claims is mounted at its destination
 * after the OCI mounts.  `path`, when given, is a sub-path of the share to
 * bind instead of its top (a single file shared through its directory). */
struct agent_share {
	char *tag;
	char *destination;	/* absolute */
	char *source;		/* NULL: matched by destination */
	char *path;		/* NULL: the whole share */
	bool readonly;
};

struct agent_config {
	struct oci_spec *spec;	/* bundle-less: root.path is kept as written */
	struct agent_share *shares;
	size_t n_shares;
	char *hostname;		/* NULL: spec->hostname */
	bool start;		/* start session 0 without waiting for PROTO_START */
	struct agent_network network;	/* the guest's NICs, addresses and routes */
};

/* Parses a PROTO_CONFIG payload:
 *   {"config": {...config.json...}, "shares": [...], "hostname": "h", "start": true,
 *    "network": {...netconfig.h...}}
 * Errors name the field ("config.process.cwd: ..."). */
int agent_config_parse(const char *text, size_t len, struct agent_config *out,
		       novm_error_t *err);
void agent_config_release(struct agent_config *cfg);

/* The share that is the root (destination "/"), or NULL. */
const struct agent_share *agent_config_root_share(const struct agent_config *cfg);


#endif
