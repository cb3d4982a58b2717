#include "pod-create.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "compat.h"
#include "control-client.h"
#include "exec-session.h"
#include "hooks.h"
#include "jsonstr.h"
#include "log.h"
#include "oci/vm-size.h"
#include "pod.h"
#include "pod-spec.h"
#include "proc.h"
#include "proto/agent.h"
#include "state.h"
#include "vm-plan.h"
#include "vmm-child.h"

#define HOST_PROCESS "the container's host process"
/* Its exit status when it fails before the container exists, as exec's. */
#define HOST_PROCESS_FAILED 255

struct pod_work {
	const struct runtime_globals *g;
	const struct create_options *o;
	const struct oci_spec *spec;
	struct ctr_state sandbox;
	char prefix[POD_GRAFT_NAME_SIZE];
	char names[POD_MAX_SHARES][POD_GRAFT_NAME_SIZE];
	size_t n_grafts;
	int root_fd;		/* a read-only root's tree, sealed once created */
	char *json;		/* the "container" request's PROTO_CONTAINER JSON */
	size_t json_len;
	char *dir;
	int lock_fd;
	char *created;
	struct oci_state state;
	struct pod_record pod;
	int report[2];		/* the host process's ready pipe */
	pid_t pid;		/* the host process */
	uint64_t start_time;
	bool child_failed;
};

int pod_seal_tree(int tree_fd, novm_error_t *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount_setattr(tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return novm_error(err, errno, "make a graft read-only");
	return 0;
}

/* The pod's RAM was fixed when its VM booted: a memory limit it cannot
 * hold is refused now rather than met by the guest's OOM killer later. */
static int check_fits(const struct oci_spec *spec, const struct ctr_state *sandbox,
		      novm_error_t *err)
{
	const struct oci_resources *res = &spec->linux_.resources;
	uint64_t ram = sandbox->vmm.memory;
	uint64_t most = ram > OCI_VM_MEMORY_OVERHEAD ? ram - OCI_VM_MEMORY_OVERHEAD : 0;

	if (!spec->has_linux || !res->has_memory_limit || res->memory_limit <= 0 || !ram ||
	    (uint64_t)res->memory_limit <= most)
		return 0;
	return novm_error(err, 0,
			  "memory limit %" PRId64 " does not fit pod %s: its VM has %" PRIu64
			  " MiB of RAM, room for a container limit of at most %" PRIu64
			  " (size the pod with %s on its sandbox, as containerd does with %s)",
			  res->memory_limit, sandbox->id, ram / (uint64_t)OCI_MiB, most, OCI_ANNOTATION_MEMORY,
			  OCI_ANNOTATION_POD_MEMORY);
}

static int check_sandbox(struct pod_work *w, const char *sandbox_id, novm_error_t *err)
{
	if (state_check_id(sandbox_id, NULL) < 0)
		return novm_error(err, 0, "sandbox id \"%s\" is not a container id", sandbox_id);
	if (state_load(w->g->root, sandbox_id, &w->sandbox, err) < 0) {
		novm_error_release(err);
		return novm_error(err, 0, "sandbox %s does not exist", sandbox_id);
	}
	if (w->sandbox.pod.role != POD_ROLE_SANDBOX)
		return novm_error(err, 0, "container %s is not a pod sandbox", sandbox_id);
	if (strcmp(w->sandbox.status, "created") && strcmp(w->sandbox.status, "running"))
		return novm_error(err, 0, "sandbox %s is %s: a pod container needs it created or running",
				  sandbox_id, w->sandbox.status);
	return check_fits(w->spec, &w->sandbox, err);
}

/* share_fn: the share's tree, a detached copy of its mounts (no host
 * mount is changed), goes to the sandbox's VMM as a graft.  A read-only
 * root stays writable until the agent made its mount points (then the
 * host process seals it, as the VMM seals a VM's). */
static int graft_share(void *opaque, const struct share_plan *s, const char **tag,
		       const char **path, novm_error_t *err)
{
	struct pod_work *w = opaque;
	char *name = w->names[w->n_grafts < POD_MAX_SHARES ? w->n_grafts : 0];
	cleanup_free char *request = NULL;
	cleanup_close int tree = -1;

	if (pod_graft_name(w->prefix, w->n_grafts, name, err) < 0)
		return -1;
	tree = open_tree(AT_FDCWD, s->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return novm_error(err, errno, "mount %s: clone `%s`", s->destination, s->source);
	if (s->readonly && !s->is_root && pod_seal_tree(tree, err) < 0)
		return -1;
	if (asprintf(&request, CONTROL_REQ_GRAFT " %s", name) < 0)
		return novm_error(err, ENOMEM, "graft");
	if (ctl_call_with(w->sandbox.dir, request, &tree, 1, NULL, 0, NULL, err) < 0)
		return novm_error_wrap(err, "mount %s: graft `%s`", s->destination, s->source);
	log_msg(LOG_LEVEL_DEBUG, "create %s: `%s` is graft %s", w->o->id, s->source, name);
	if (s->is_root && s->readonly)
		w->root_fd = steal_fd(&tree);
	w->n_grafts++;
	*tag = PROTO_POD_TAG;
	*path = name;
	return 0;
}

/* PROTO_CONTAINER's document: config.json as checked, the id, the shares. */
static int graft_and_describe(struct pod_work *w, novm_error_t *err)
{
	FILE *json = open_memstream(&w->json, &w->json_len);
	int ret;

	if (!json)
		return novm_error(err, errno, "container request");
	fputs("{\"id\":", json);
	json_write_string(json, w->o->id);
	fputs(",\"config\":", json);
	fwrite(w->spec->text, 1, w->spec->text_len, json);
	fputs(",\"shares\":", json);
	ret = container_shares_each(w->spec, graft_share, w, json, err);
	fputc('}', json);
	if (fclose(json) != 0 && ret == 0)
		return novm_error(err, ENOMEM, "container request");
	return ret;
}

struct host_args {
	const char *sandbox_dir;
	const char *json;
	size_t len;
	bool terminal;
	const char *console_socket;
	int report_fd, root_fd;
};

/* The host process: "container" on the sandbox's control socket with the
 * stdio, "ok <guest pid> <session>" to create, then the session's end is
 * its own. */
static __attribute__((noreturn)) void host_process_main(const struct host_args *a)
{
	struct exec_stdio io = { .pty_slave = -1 };
	struct exec_session s = { .fd = -1 };
	novm_error_t err = NULL;
	sigset_t signals;
	char line[64];

	/* Our own session (a shim's process group is not ours to end) and no
	 * hold on the bundle's directory. */
	setsid();
	if (chdir("/") < 0)
		log_msg(LOG_LEVEL_DEBUG, "host process: chdir /: %m");
	exec_session_signals(&signals);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	if (exec_stdio_open(a->terminal, a->console_socket, &io, &err) < 0 ||
	    exec_session_start(a->sandbox_dir, CONTROL_REQ_CONTAINER, a->json, a->len, io.fds, a->terminal,
			       &s, &err) < 0)
		goto fail;
	if (s.ended || !s.session) {
		novm_error(&err, 0, s.ended ? "the container's process ended before it was created"
					    : "the VMM named no session for the container");
		goto fail;
	}
	if (a->root_fd >= 0) {
		if (pod_seal_tree(a->root_fd, &err) < 0) {
			exec_session_kill(&s);
			goto fail;
		}
		close(a->root_fd);
	}
	snprintf(line, sizeof(line), CONTROL_ANS_OK " %d %u\n", s.guest_pid, s.session);
	vmm_child_report(a->report_fd, line);
	close(a->report_fd);
	exec_stdio_drop();
	/* A broken connection is the VM gone, as EOF is. */
	if (exec_session_wait(&s, &signals, io.winsize_fd, &err) < 0) {
		novm_error_release(&err);
		s.status = 128 + SIGKILL;
		s.signo = SIGKILL;
	}
	exec_session_close(&s);
	exec_stdio_close(&io);
	proc_exit_like(s.status, s.signo);
fail:;
	cleanup_free char *msg = NULL;
	if (asprintf(&msg, "error %s\n", err ? err->msg : "the container could not be created") >= 0) {
		for (char *p = msg; p[1]; p++)
			if (*p == '\n')
				*p = ' ';
		vmm_child_report(a->report_fd, msg);
	}
	_exit(HOST_PROCESS_FAILED);
}

static int fork_host_process(struct pod_work *w, novm_error_t *err)
{
	if (pipe2(w->report, O_CLOEXEC) < 0)
		return novm_error(err, errno, "pipe");
	fflush(NULL);
	w->pid = fork();
	if (w->pid < 0)
		return novm_error(err, errno, "fork " HOST_PROCESS);
	if (w->pid == 0) {
		const struct host_args a = {
			.sandbox_dir = w->sandbox.dir,
			.json = w->json,
			.len = w->json_len,
			.terminal = w->spec->process.terminal,
			.console_socket = w->o->console_socket,
			.report_fd = w->report[1],
			.root_fd = w->root_fd,
		};
		/* The lock is create's: a copy here would hold it. */
		close(w->lock_fd);
		close(w->report[0]);
		host_process_main(&a);
	}
	close(w->report[1]);
	w->report[1] = -1;
	proc_start_time(w->pid, &w->start_time);
	return 0;
}

static int record(struct pod_work *w, enum oci_status status, novm_error_t *err)
{
	w->state.status = status;
	w->state.pid = w->pid > 0 ? w->pid : 0;
	return state_write(w->dir, &w->state, err);
}

/* What a pod container cannot have, refused before anything is made. */
static int check_spec(const struct oci_spec *spec, novm_error_t *err)
{
	const struct oci_hooks *h = &spec->hooks;

	/* They would run against the container's namespaces, which are the
	 * sandbox VM's guest's: none is on the host to be handed over. */
	if (h->prestart.len || h->create_runtime.len || h->create_container.len)
		return novm_error(err, 0, "a pod container cannot have prestart, createRuntime or "
					  "createContainer hooks (its namespaces are in the sandbox's VM)");
	/* PROTO_CONTAINER carries config.json in one request. */
	if (spec->text_len + CONTROL_MAX_LINE > CONTROL_MAX_PROCESS_JSON)
		return novm_error(err, 0, "config.json is too big for a pod container: %zu bytes "
					  "(at most %d)", spec->text_len,
				  CONTROL_MAX_PROCESS_JSON - CONTROL_MAX_LINE);
	return 0;
}

static int prepare(struct pod_work *w, const char *sandbox_id, novm_error_t *err)
{
	if (check_spec(w->spec, err) < 0 || check_sandbox(w, sandbox_id, err) < 0 ||
	    state_create_dir(w->g->root, w->o->id, &w->dir, &w->lock_fd, err) < 0)
		return -1;
	if (!(w->created = state_now_rfc3339()) || !(w->pod.sandbox = strdup(sandbox_id)))
		return novm_error(err, ENOMEM, "state");
	w->pod.role = POD_ROLE_CONTAINER;
	w->state = state_for_spec(w->spec, w->o->id, w->created);
	if (record(w, OCI_STATUS_CREATING, err) < 0 || state_write_pod(w->dir, &w->pod, err) < 0 ||
	    hooks_save(w->dir, &w->spec->hooks, w->spec->text, w->spec->text_len, err) < 0)
		return -1;
	/* The id is ours alone now: grafts a failed delete of an earlier
	 * container of that id left would collide with ours. */
	pod_graft_prefix(w->o->id, w->prefix);
	pod_ungraft(w->sandbox.dir, w->prefix);
	return graft_and_describe(w, err);
}

/* Undoes what a failed create made: the session (if the VMM opened one),
 * the host process, the grafts, the state directory. */
static void pod_work_release(struct pod_work *w, bool failed)
{
	if (failed && w->pid > 0) {
		/* One that reported an error is on its way out; one that got
		 * its session ends it as it goes (the connection is the
		 * container's life), and the session is asked to end first. */
		if (w->pod.session) {
			struct ctr_state st = { .pod = w->pod };
			st.pod.sandbox_dir = w->sandbox.dir;
			novm_error_t e = NULL;
			if (ctr_call(&st, CONTROL_REQ_KILL " 9 " CONTROL_REQ_KILL_ALL, NULL, &e) < 0)
				novm_error_release(&e);
		}
		if (!w->child_failed || !proc_wait_gone(w->pid, w->start_time, 3000))
			kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
	}
	if (failed && w->sandbox.dir && w->prefix[0])
		pod_ungraft(w->sandbox.dir, w->prefix);
	if (failed && w->dir)
		state_remove_dir(w->dir);
	if (failed && w->lock_fd >= 0)
		close(w->lock_fd);
	if (failed)
		free(w->dir);
	for (int i = 0; i < 2; i++)
		if (w->report[i] >= 0)
			close(w->report[i]);
	if (w->root_fd >= 0)
		close(w->root_fd);
	ctr_state_release(&w->sandbox);
	free(w->json);
	free(w->created);
	free(w->pod.sandbox);
}

int pod_container_create(const struct runtime_globals *g, const struct create_options *o,
			 const struct oci_spec *spec, const char *sandbox_id,
			 struct created_container *out, novm_error_t *err)
{
	struct pod_work w = {
		.g = g, .o = o, .spec = spec, .root_fd = -1, .lock_fd = -1, .report = { -1, -1 },
	};
	sigset_t stop_signals, old_mask;
	char answer[64];
	int ret = -1;

	log_msg(LOG_LEVEL_DEBUG, "create %s: a container of pod %s", o->id, sandbox_id);
	/* As container_create: no signal may end us with a host process or
	 * grafts left behind; one that comes aborts the creation. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	sigaddset(&stop_signals, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
	if (prepare(&w, sandbox_id, err) < 0 || fork_host_process(&w, err) < 0)
		goto out;
	const struct vmm_record host = { .pid = w.pid, .start_time = w.start_time };
	if (state_write_vmm(w.dir, &host, err) < 0 ||
	    create_wait_ready(w.report[0], w.pid, HOST_PROCESS, CONTROL_ANS_OK, &stop_signals,
			      &w.child_failed, answer, sizeof(answer), err) < 0)
		goto out;
	int guest_pid;
	if (sscanf(answer, "%d %u", &guest_pid, &w.pod.session) != 2 || !w.pod.session) {
		novm_error(err, 0, "unexpected word from " HOST_PROCESS ": \"ok %s\"", answer);
		goto out;
	}
	if (state_write_pod(w.dir, &w.pod, err) < 0 || record(&w, OCI_STATUS_CREATED, err) < 0 ||
	    (o->pid_file && write_pid_file(o->pid_file, w.pid, err) < 0) ||
	    (o->pidfd_socket && compat_send_pidfd(o->pidfd_socket, w.pid, "standard", err) < 0))
		goto out;
	log_msg(LOG_LEVEL_DEBUG, "container %s created in pod %s: session %u, guest pid %d, host pid %d",
		o->id, sandbox_id, w.pod.session, guest_pid, w.pid);
	out->dir = steal_pointer(&w.dir);
	out->lock_fd = steal_fd(&w.lock_fd);
	out->pid = w.pid;
	out->start_time = w.start_time;
	out->terminal = spec->process.terminal;
	ret = 0;
out:
	pod_work_release(&w, ret < 0);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return ret;
}
