/* The OCI state of a container (runtime-spec runtime.md "State"): what
 * `novm-runc state` prints and what the runtime keeps in a file per
 * container and reads back. */
#ifndef NOVM_OCI_STATE_H
#define NOVM_OCI_STATE_H

#include <stddef.h>

#include "error.h"
#include "spec.h"

enum oci_status {
	OCI_STATUS_CREATING,
	OCI_STATUS_CREATED,
	OCI_STATUS_RUNNING,
	OCI_STATUS_STOPPED,
};

struct oci_state {
	char *oci_version;
	char *id;
	enum oci_status status;
	int pid;		/* 0: none (stopped, or not yet started) */
	char *bundle;		/* absolute */
	struct oci_kv *annotations;
	size_t n_annotations;
	/* runc's `state` output also has these; written when set */
	char *rootfs;
	char *created;		/* RFC 3339 time of creation */
	char *owner;
};

/* Pretty JSON as `runc state` prints it (two-space indent, fields in
 * runc's order), ending in a newline. */
int oci_state_to_json(const struct oci_state *state, char **out, size_t *len,
		      novm_error_t *err);

/* Parses a state document; `name` labels errors (the file it came from).
 * ociVersion, id, status and bundle are required. */
int oci_state_from_json(const char *name, const char *text, size_t len, struct oci_state **out,
			novm_error_t *err);

void oci_state_free(struct oci_state *state);

static inline void cleanup_oci_state_fn(struct oci_state **state)
{
	oci_state_free(*state);
}
#define cleanup_oci_state __attribute__((cleanup(cleanup_oci_state_fn)))

const char *oci_status_name(enum oci_status status);
/* false for a name that is not one of the four statuses */
bool oci_status_parse(const char *name, enum oci_status *out);

#endif
