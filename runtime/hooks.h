/* OCI hooks (runtime-spec config.md#posix-platform-hooks).  They run on the
 * host, in the runtime's namespaces: the container's own namespaces are
 * inside its VM, where host binaries cannot run.  So createContainer and
 * startContainer run on the host too, right after createRuntime and right
 * before the process starts.  Each hook gets the container's state JSON on
 * stdin; its stdout and stderr are kept for the error message.
 *
 * config.json is copied into the state directory at create, so start and
 * delete run the hooks the container was created with even if the bundle
 * changed or went away. */
#ifndef NOVM_RUNTIME_HOOKS_H
#define NOVM_RUNTIME_HOOKS_H

#include "error.h"
#include "oci/spec.h"
#include "state.h"

/* Saves config.json's text as the container's hooks source (only when it
 * has hooks: most containers have none and get no extra file). */
int hooks_save(const char *state_dir, const struct oci_hooks *hooks, const char *config_text,
	       size_t len, novm_error_t *err);
/* The hooks saved at create; none when nothing was saved. */
int hooks_load(const char *state_dir, struct oci_hooks *out, novm_error_t *err);

/* Runs the hooks of one phase in order with st's state on stdin; stops at
 * the first that fails (non-zero exit, signal, exec failure or its
 * timeout), with an error naming the phase, the hook and its output. */
int hooks_run(const struct oci_hook_list *list, const char *phase, const struct ctr_state *st,
	      novm_error_t *err);
/* The phases whose failures are only warnings (poststart, poststop). */
void hooks_run_warn(const struct oci_hook_list *list, const char *phase,
		    const struct ctr_state *st);

#endif
