/* Per-container state under the runtime root (--root, default /run/novm):
 *   <root>/<id>/state.json   the OCI state, written atomically
 *   <root>/<id>/console.log  the guest's serial console (kernel messages)
 */
#ifndef NOVM_RUNTIME_STATE_H
#define NOVM_RUNTIME_STATE_H

#include "error.h"
#include "oci/state.h"

#define RUNTIME_DEFAULT_ROOT "/run/novm"

/* runc's rule for ids: letters, digits and `_+-.`, not starting with `.`. */
int state_check_id(const char *id, novm_error_t *err);

/* Creates <root>/<id> exclusively; "container with id exists: <id>" when it
 * is already there.  *dir is the heap path. */
int state_create_dir(const char *root, const char *id, char **dir, novm_error_t *err);
int state_write(const char *dir, const struct oci_state *state, novm_error_t *err);
int state_read(const char *root, const char *id, struct oci_state **state, novm_error_t *err);
/* Removes <root>/<id> and everything in it. */
void state_remove_dir(const char *dir);

#endif
