/* Shared by the spec*.c files that read the sections of config.json; not
 * part of the oci/ interface. */
#ifndef NOVM_OCI_SPEC_INTERNAL_H
#define NOVM_OCI_SPEC_INTERNAL_H

#include "json.h"
#include "spec.h"

/* A string array member (absent leaves *out empty). */
int oci_parse_strv(const struct json_node *obj, const char *key, struct oci_strv *out,
		   novm_error_t *err);

/* An object of string values into an ordered list; a repeated key keeps
 * its first place and takes the last value, as a Go map would. */
int oci_parse_kv(const struct json_node *obj, const char *key, struct oci_kv **out, size_t *len,
		 novm_error_t *err);
void oci_kv_free(struct oci_kv *kv, size_t len);

/* An array of objects: allocates one zeroed `elem_size` item per entry and
 * fills each with parse_item().  *out and *len are set before the items are
 * parsed, so on failure the caller's usual release frees what was read. */
int oci_parse_object_array(const struct json_node *obj, const char *key, size_t elem_size,
			   void **out, size_t *len,
			   int (*parse_item)(const struct json_node *item, void *dst,
					     novm_error_t *err),
			   novm_error_t *err);

/* One entry of "mounts" (an oci_parse_object_array item): destination
 * required and not empty, type, source, options. */
int oci_parse_mount(const struct json_node *item, void *dst, novm_error_t *err);

/* Require `path` absolute; `node` names the field in the error. */
int oci_check_absolute(const struct json_node *node, const char *path, novm_error_t *err);

/* config.json read from a node of a larger document, without a bundle
 * (the guest agent's case): ociVersion and root become optional, root.path
 * is kept as written and nothing on the filesystem is looked at; every
 * other check is the same as oci_spec_parse()'s.  spec->bundle is NULL. */
int oci_spec_from_node(const struct json_node *config, struct oci_spec **out,
		       novm_error_t *err);

int oci_parse_process(const struct json_node *root, struct oci_process *process,
		      novm_error_t *err);

int oci_parse_linux(const struct json_node *root, struct oci_linux *linux_, bool *present,
		    novm_error_t *err);
void oci_linux_release(struct oci_linux *linux_);

int oci_parse_vm(const struct json_node *root, struct oci_vm **out, novm_error_t *err);
void oci_vm_free(struct oci_vm *vm);

#endif
