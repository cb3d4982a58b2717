#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "spec-internal.h"

static const char *const status_names[] = {
	[OCI_STATUS_CREATING] = "creating",
	[OCI_STATUS_CREATED] = "created",
	[OCI_STATUS_RUNNING] = "running",
	[OCI_STATUS_STOPPED] = "stopped",
};

const char *oci_status_name(enum oci_status status)
{
	if ((size_t)status < ARRAY_SIZE(status_names))
		return status_names[status];
	return "unknown";
}

bool oci_status_parse(const char *name, enum oci_status *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++) {
		if (strcmp(status_names[i], name) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

int oci_state_to_json(const struct oci_state *state, char **out, size_t *len,
		      novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new("  ");

	json_gen_object_open(gen);
	json_gen_member_string(gen, "ociVersion",
			       state->oci_version ? state->oci_version : OCI_SPEC_VERSION);
	json_gen_member_string(gen, "id", state->id);
	/* runc prints pid always; 0 when there is no process */
	json_gen_member_i64(gen, "pid", state->pid);
	json_gen_member_string(gen, "status", oci_status_name(state->status));
	json_gen_member_string(gen, "bundle", state->bundle);
	if (state->rootfs)
		json_gen_member_string(gen, "rootfs", state->rootfs);
	if (state->created)
		json_gen_member_string(gen, "created", state->created);
	if (state->n_annotations) {
		json_gen_key(gen, "annotations");
		json_gen_object_open(gen);
		for (size_t i = 0; i < state->n_annotations; i++)
			json_gen_member_string(gen, state->annotations[i].key,
					       state->annotations[i].value);
		json_gen_object_close(gen);
	}
	if (state->owner)
		json_gen_member_string(gen, "owner", state->owner);
	json_gen_object_close(gen);
	return json_gen_finish(gen, "state", out, len, err);
}

static int require_string(const struct json_node *root, const char *key, char **out,
			  novm_error_t *err)
{
	struct json_node node;

	json_member(root, key, &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, out, err) < 0)
		return -1;
	if (!**out)
		return json_error(&node, err, "must not be empty");
	return 0;
}

static int parse_state(const struct json_node *root, struct oci_state *st, novm_error_t *err)
{
	struct json_node node;
	cleanup_free char *status = NULL;

	if (!json_present(root) || json_want_object(root, NULL, err) < 0)
		return json_error(root, err, "expected an object");
	if (require_string(root, "ociVersion", &st->oci_version, err) < 0 ||
	    require_string(root, "id", &st->id, err) < 0 ||
	    require_string(root, "bundle", &st->bundle, err) < 0)
		return -1;
	json_member(root, "status", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &status, err) < 0)
		return -1;
	if (!oci_status_parse(status, &st->status))
		return json_error(&node, err, "unknown status \"%s\"", status);
	json_member(root, "pid", &node);
	if (json_get_int(&node, NULL, &st->pid, err) < 0)
		return -1;
	if (st->pid < 0)
		return json_error(&node, err, "negative pid %d", st->pid);
	if (json_get_string(root, "rootfs", &st->rootfs, err) < 0 ||
	    json_get_string(root, "created", &st->created, err) < 0 ||
	    json_get_string(root, "owner", &st->owner, err) < 0 ||
	    oci_parse_kv(root, "annotations", &st->annotations, &st->n_annotations, err) < 0)
		return -1;
	return 0;
}

int oci_state_from_json(const char *name, const char *text, size_t len, struct oci_state **out,
			novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	cleanup_oci_state struct oci_state *st = calloc(1, sizeof(*st));
	struct json_node root;

	if (!st)
		return novm_error(err, ENOMEM, "%s", name);
	if (json_doc_parse(name, text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (parse_state(&root, st, err) < 0)
		return -1;
	*out = steal_pointer(&st);
	return 0;
}

void oci_state_free(struct oci_state *state)
{
	if (!state)
		return;
	free(state->oci_version);
	free(state->id);
	free(state->bundle);
	oci_kv_free(state->annotations, state->n_annotations);
	free(state->rootfs);
	free(state->created);
	free(state->owner);
	free(state);
}
