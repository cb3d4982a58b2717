#include "pod-spec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int role_of(const char *type, enum pod_role *role, const char *key, novm_error_t *err)
{
	if (!strcmp(type, POD_TYPE_SANDBOX))
		*role = POD_ROLE_SANDBOX;
	else if (!strcmp(type, POD_TYPE_CONTAINER))
		*role = POD_ROLE_CONTAINER;
	else
		return novm_error(err, 0, "annotation %s: unknown container type \"%s\" (want %s or %s)",
				  key, type, POD_TYPE_SANDBOX, POD_TYPE_CONTAINER);
	return 0;
}

int pod_classify(const struct oci_spec *spec, enum pod_role *role, const char **sandbox_id,
		 novm_error_t *err)
{
	static const struct {
		const char *type, *sandbox;
	} keys[] = {
		{ POD_ANN_CONTAINERD_TYPE, POD_ANN_CONTAINERD_SANDBOX },
		{ POD_ANN_CRIO_TYPE, POD_ANN_CRIO_SANDBOX },
	};
	const char *found_key = NULL;

	*role = POD_ROLE_NONE;
	*sandbox_id = NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *type = oci_spec_annotation(spec, keys[i].type);
		const char *sandbox = oci_spec_annotation(spec, keys[i].sandbox);
		enum pod_role r;

		if (!type)
			continue;
		if (role_of(type, &r, keys[i].type, err) < 0)
			return -1;
		if (r == POD_ROLE_CONTAINER && (!sandbox || !*sandbox))
			return novm_error(err, 0, "annotation %s: a container of a pod needs %s", keys[i].type,
					  keys[i].sandbox);
		if (found_key && (r != *role || (r == POD_ROLE_CONTAINER && strcmp(sandbox, *sandbox_id))))
			return novm_error(err, 0, "annotations %s and %s disagree", found_key, keys[i].type);
		*role = r;
		if (r == POD_ROLE_CONTAINER)
			*sandbox_id = sandbox;
		found_key = keys[i].type;
	}
	return 0;
}

static bool plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* FNV-1a, 64 bits, from a given basis: two bases make the 128 bits of a
 * long id's short form (a name, not a secret: ids come from the pod's
 * own manager). */
static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Room after the prefix for the share number. */
#define POD_SHORT_ID_MAX (CONTROL_MAX_GRAFT_NAME - 1 - 4)

void pod_graft_prefix(const char *id, char out[POD_GRAFT_NAME_SIZE])
{
	size_t len = 0;

	for (const char *p = id; *p; p++)
		len += plain((unsigned char)*p) ? 1 : 3;
	if (len && len <= POD_SHORT_ID_MAX) {
		size_t at = 0;
		for (const char *p = id; *p; p++)
			at += plain((unsigned char)*p) ? (size_t)snprintf(out + at, 2, "%c", *p)
						       : (size_t)snprintf(out + at, 4, "_%02x", (unsigned char)*p);
		snprintf(out + at, POD_GRAFT_NAME_SIZE - at, ".");
		return;
	}
	snprintf(out, POD_GRAFT_NAME_SIZE, "_h%016llx%016llx.",
		 (unsigned long long)fnv1a(id, 0xcbf29ce484222325ULL),
		 (unsigned long long)fnv1a(id, 0x84222325cbf29ce4ULL));
}

bool pod_graft_name_valid(const char *name)
{
	return name_is_plain(name, CONTROL_MAX_GRAFT_NAME);
}

int pod_graft_name(const char *prefix, size_t n, char out[POD_GRAFT_NAME_SIZE], novm_error_t *err)
{
	if (n >= POD_MAX_SHARES)
		return novm_error(err, 0, "a pod container has at most %d shares (root and bind mounts)",
				  POD_MAX_SHARES);
	int len = snprintf(out, POD_GRAFT_NAME_SIZE, "%s%zu", prefix, n);
	if (len < 0 || len >= POD_GRAFT_NAME_SIZE || !pod_graft_name_valid(out))
		return novm_error(err, 0, "bad graft name \"%s%zu\"", prefix, n);
	return 0;
}
