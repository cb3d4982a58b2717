/* What commands do to a pod container (pod-spec.h), which has no VMM of
 * its own: its requests go to its sandbox's VMM, prefixed with
 * "in <session>" (proto/control.h); its "VMM" in the state is the host
 * process that stands for it (pod-create.h).  Containers with a VM of
 * their own (a sandbox too) go to their own VMM unchanged. */
#ifndef NOVM_RUNTIME_POD_H
#define NOVM_RUNTIME_POD_H

#include <stdbool.h>

#include "error.h"
#include "state.h"

/* The state directory whose control socket serves the container. */
const char *ctr_control_dir(const struct ctr_state *st);

/* The request line as the container's VMM takes it (heap; NULL when out
 * of memory). */
char *ctr_request(const struct ctr_state *st, const char *request);

/* ctl_call() for the container; a pod container whose session is not
 * known yet (its create did not finish) has no requests. */
int ctr_call(const struct ctr_state *st, const char *request, char **data, novm_error_t *err);

/* For what pods cannot do yet: "<what> is not supported for a pod
 * container yet", else 0. */
int pod_refuse(const struct ctr_state *st, const char *what, novm_error_t *err);

/* kill for a created or running pod container: through the sandbox's
 * VMM; SIGKILL, if that fails, by killing the host process, whose
 * connection is the container's life. */
int pod_kill(struct ctr_state *st, int signo, bool all, novm_error_t *err);

/* delete's part: the container's processes killed (kill 9 all) and its
 * host process awaited, then its grafts taken back.  The sandbox may be
 * gone already. */
int pod_stop(struct ctr_state *st, novm_error_t *err);

/* "ungraft <prefix>" on the sandbox, best effort. */
void pod_ungraft(const char *sandbox_dir, const char *prefix);

#endif
