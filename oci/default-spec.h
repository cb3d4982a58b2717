/* The config.json that `novm-runc spec` writes: runc's example spec
 * (libcontainer/specconv/example.go) with novm's hostname. */
#ifndef NOVM_OCI_DEFAULT_SPEC_H
#define NOVM_OCI_DEFAULT_SPEC_H

#include <stddef.h>

#include "error.h"

/* The document, tab-indented like runc's, ending in a newline. */
int oci_default_spec_json(char **out, size_t *len, novm_error_t *err);

/* Writes <bundle_dir>/config.json; an existing one is never replaced:
 * "File config.json exists. Remove it first" (runc's words). */
int oci_write_default_spec(const char *bundle_dir, novm_error_t *err);

#endif
