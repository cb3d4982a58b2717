/* What the host sends the agent: the PROTO_CONFIG document (the bundle's
 * config.json plus how the host's directories are shared) and the process
 * objects of PROTO_EXEC.  Pure parsing, unit-tested on the host. */
#ifndef NOVM_AGENT_HOSTCONFIG_H
#define NOVM_AGENT_HOSTCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	char *id;		/* a pod container's (PROTO_CONTAINER); else NULL */
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

/* Pod containers (proto/agent.h) and how many one VM holds besides its
 * sandbox: each is a cgroup, namespaces and a session in PID 1. */
/* Each holds one of the VMM's control connections and agent sessions (64
 * of each) for its whole life: half stay for execs and short requests. */
#define AGENT_MAX_POD_CONTAINERS 32
/* A pod container's id: what the host names it, for messages. */
#define AGENT_POD_ID_MAX 1024

/* Parses a PROTO_CONTAINER payload: PROTO_CONFIG's document plus a
 * required "id"; every share must be of the PROTO_POD_TAG device and name
 * its graft there with a "path" of one component (1 to
 * CONTROL_MAX_GRAFT_NAME of [A-Za-z0-9._-], not "." or "..").  "start",
 * "hostname" and "network" are the sandbox's business: refused. */
int agent_container_parse(const char *text, size_t len, struct agent_config *out,
			  novm_error_t *err);

/* Splits a PROTO_EXEC_IN payload into the target session and the process
 * JSON after it (pointing into payload). */
int agent_exec_in_split(const void *payload, size_t len, uint32_t *target, const char **json,
			size_t *json_len, novm_error_t *err);

/* The share staging plan: several shares may be one virtio-fs device
 * (a tag), mounted once in the staging area, each binding its own `path`
 * from there.  The first share of share i's tag, whose staging mount
 * serves them all. */
size_t agent_share_staging_index(const struct agent_config *cfg, size_t i);
/* Whether that staging mount is read-only: only when every share of the
 * tag is, and none is the root (made read-only only at the end). */
bool agent_share_staging_readonly(const struct agent_config *cfg, size_t i);


#endif
