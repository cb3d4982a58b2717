#include "state-json.h"

#include <errno.h>

void state_json_gen(struct json_gen *gen, const struct ctr_state *st, const char *owner)
{
	const struct oci_state *s = st->oci;

	json_gen_object_open(gen);
	json_gen_member_string(gen, "ociVersion", s->oci_version);
	json_gen_member_string(gen, "id", s->id);
	json_gen_member_i64(gen, "pid", s->pid);
	json_gen_member_string(gen, "status", st->status);
	json_gen_member_string(gen, "bundle", s->bundle);
	json_gen_member_string(gen, "rootfs", s->rootfs ? s->rootfs : "");
	json_gen_member_string(gen, "created", s->created ? s->created : "");
	if (s->n_annotations) {
		json_gen_key(gen, "annotations");
		json_gen_object_open(gen);
		for (size_t i = 0; i < s->n_annotations; i++)
			json_gen_member_string(gen, s->annotations[i].key, s->annotations[i].value);
		json_gen_object_close(gen);
	}
	json_gen_member_string(gen, "owner", owner ? owner : "");
	json_gen_object_close(gen);
}

int state_json_pretty(const struct ctr_state *st, char **out, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new("  ");

	if (!gen)
		return novm_error(err, ENOMEM, "state");
	state_json_gen(gen, st, "");
	return json_gen_finish(gen, "state", out, len, err);
}
