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

/* The sections of config.json; `root` is the object holding the section. */
int oci_parse_process(const struct json_node *root, struct oci_process *process,
		      novm_error_t *err);
int oci_parse_linux(const struct json_node *root, struct oci_linux *linux_, bool *present,
		    novm_error_t *err);
void oci_linux_release(struct oci_linux *linux_);

/* One entry of "mounts" (an oci_parse_object_array item): destination
 * required and not empty, type, source, options. */
int oci_parse_mount(const struct json_node *item, void *dst, novm_error_t *err);

int oci_parse_vm(const struct json_node *root, struct oci_vm **out, novm_error_t *err);
void oci_vm_free(struct oci_vm *vm);

#endif
