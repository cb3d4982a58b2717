/* Per-container state under the runtime root (--root, default /run/novm):
 *   <root>/<id>/state.json    the OCI state as last recorded (atomic writes)
 *   <root>/<id>/vmm.json      ours: the VMM's pid and start time, its cgroup,
 *                             whether it is paused; for a pod container the
 *                             host process that stands for it instead
 *   <root>/<id>/pod.json      ours, for a pod's sandbox and its containers:
 *                             the role, the sandbox, the container's session
 *   <root>/<id>/.lock         flock()ed by every command that changes the
 *                             container, so commands on one id run one at a
 *                             time (state and list only read)
 *   <root>/<id>/control.sock  the VMM's control socket (vmm/channel/control.h)
 *   <root>/<id>/console.log   the guest's serial console (kernel messages)
 *   <root>/<id>/exec-<pid>    one per exec proxy, holding its start time
 *
 * What a container is *now* comes from these plus the VMM's liveness: a VMM
 * that is gone means "stopped", whatever state.json says. */
#ifndef NOVM_RUNTIME_STATE_H
#define NOVM_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "oci/spec.h"
#include "oci/state.h"
#include "pod-spec.h"

#define RUNTIME_DEFAULT_ROOT "/run/novm"

/* runc's rule for ids: letters, digits and `_+-.`, not starting with `.`. */
int state_check_id(const char *id, novm_error_t *err);

/* Creates <root>/<id> exclusively ("container with id exists: <id>" when it
 * is there) and takes its lock.  *dir is the heap path, *lock_fd the lock. */
int state_create_dir(const char *root, const char *id, char **dir, int *lock_fd,
		     novm_error_t *err);

/* Takes the lock of an existing container, waiting for the holder;
 * "container does not exist" when it is not there or was deleted while we
 * waited.  Close *lock_fd to release. */
int state_lock(const char *root, const char *id, int *lock_fd, novm_error_t *err);

/* Removes the state directory and everything in it. */
void state_remove_dir(const char *dir);

struct vmm_record {
	pid_t pid;		/* 0: no VMM yet */
	uint64_t start_time;	/* /proc/<pid>/stat field 22 */
	char *cgroup;		/* the cgroup directory it runs in, or NULL */
	uint64_t memory;	/* the guest's RAM in bytes, for update; 0: unknown */
	bool paused;
};

/* A pod's sandbox or pod container (pod-spec.h); role NONE without
 * pod.json. */
struct pod_record {
	enum pod_role role;
	char *sandbox;		/* a pod container's sandbox id */
	uint32_t session;	/* its session in the sandbox's VM, 0 until created */
	char *sandbox_dir;	/* loaded: <root>/<sandbox>, whose VMM serves it */
};

/* A container as it is now. */
struct ctr_state {
	char *id;
	char *dir;
	struct oci_state *oci;	/* pid is the live VMM's, 0 when stopped */
	struct vmm_record vmm;
	struct pod_record pod;
	bool vmm_alive;
	const char *status;	/* creating, created, running, paused or stopped */
};

int state_write(const char *dir, const struct oci_state *state, novm_error_t *err);
int state_write_vmm(const char *dir, const struct vmm_record *vmm, novm_error_t *err);
int state_write_pod(const char *dir, const struct pod_record *pod, novm_error_t *err);

/* Reads a container's state; "container does not exist" when there is none. */
int state_load(const char *root, const char *id, struct ctr_state *out, novm_error_t *err);
void ctr_state_release(struct ctr_state *st);

static inline void cleanup_ctr_state_fn(struct ctr_state *st)
{
	ctr_state_release(st);
}
#define cleanup_ctr_state __attribute__((cleanup(cleanup_ctr_state_fn)))

/* The live status from the recorded one and the VMM's liveness. */
const char *state_live_status(enum oci_status recorded, bool has_vmm, bool vmm_alive, bool paused);

/* The ids under root, sorted; entries that are not container ids are
 * skipped. */
int state_list_ids(const char *root, char ***ids, size_t *n, novm_error_t *err);
void state_free_ids(char **ids, size_t n);

/* Exec proxies: recorded while they run, for `ps --format json`. */
int state_add_exec(const char *dir, pid_t pid, novm_error_t *err);
void state_remove_exec(const char *dir, pid_t pid);
/* The exec proxies still alive. */
int state_exec_pids(const char *dir, pid_t **pids, size_t *n, novm_error_t *err);

/* Writes the current time as RFC 3339 with nanoseconds, like runc's
 * `created` (heap string, NULL when out of memory). */
char *state_now_rfc3339(void);

/* A container's first state ("creating"), from its spec; the strings are
 * borrowed from spec, id and created. */
struct oci_state state_for_spec(const struct oci_spec *spec, const char *id, char *created);

#endif
