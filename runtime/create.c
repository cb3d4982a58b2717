#include "create.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "netconf.h"
#include "netns.h"
#include "cleanup.h"
#include "compat.h"
#include "console-socket.h"
#include "control-client.h"
#include "vm-plan.h"
#include "hooks.h"
#include "log.h"
#include "oci/spec.h"
#include "pod-create.h"
#include "proc.h"
#include "state.h"
#include "util.h"
#include "vmm-child.h"

int write_pid_file(const char *path, pid_t pid, novm_error_t *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid);

	if (write_file_atomic(path, buf, n, 0644, err) < 0)
		return novm_error_wrap(err, "pid file");
	return 0;
}

/* Everything create needs before it can fork, in one place for release. */
struct create_work {
	struct oci_spec *spec;	/* spec->text is what the agent is sent */
	char *cgroup;
	struct cgroup_limits limits;
	struct netns_plan netns;
	char *created;
	/* What state.json says, kept so that nothing is read back: strings
	 * are the spec's, the work's and the options'. */
	struct oci_state state;
	struct container_vm cvm;
	enum pod_role pod_role;
	const char *sandbox_id;	/* a pod container's, the spec's string */
	char *dir;
	int lock_fd, console_fd, ready[2], go[2], pty_master, pty_slave;
	pid_t pid;
	uint64_t start_time;	/* the VMM's */
	bool vmm_failed;	/* it said so, or died: let it end by itself */
	int exit_code;
};

/* The state file is written at runc's transitions: "creating" before the
 * VMM is forked (its pid is in vmm.json), "created" once the VM holds the
 * container. */
static int record_state(struct create_work *w, enum oci_status status, novm_error_t *err)
{
	w->state.status = status;
	w->state.pid = w->pid > 0 ? w->pid : 0;
	return state_write(w->dir, &w->state, err);
}

/* The create hooks run on the host with the state "creating" and the VMM's
 * pid: prestart (deprecated, same point) and createRuntime once the VMM is
 * in the container's namespaces, before the guest boots, so what they put
 * in the network namespace becomes the guest's (net_discover);
 * createContainer once the VM holds the created container.  A failure
 * fails create.  They are shown the state as state_load() would find it
 * on disk, from what is in memory. */
static int run_create_hooks(const struct create_work *w, bool booted, novm_error_t *err)
{
	const struct oci_hooks *h = &w->spec->hooks;

	if (booted ? !h->create_container.len : !h->prestart.len && !h->create_runtime.len)
		return 0;
	struct oci_state oci = w->state;
	struct ctr_state st = {
		.id = oci.id,
		.dir = w->dir,
		.oci = &oci,
		.vmm = { .pid = w->pid, .start_time = w->start_time, .cgroup = w->cgroup },
		.vmm_alive = proc_alive(w->pid, w->start_time),
	};
	st.status = state_live_status(oci.status, true, st.vmm_alive, false);
	oci.pid = st.vmm_alive ? w->pid : 0;
	if (booted)
		return hooks_run(&h->create_container, "createContainer", &st, err);
	if (hooks_run(&h->prestart, "prestart", &st, err) < 0 ||
	    hooks_run(&h->create_runtime, "createRuntime", &st, err) < 0)
		return -1;
	return 0;
}

/* Why the child ended before it said anything. */
static int describe_early_exit(pid_t pid, const char *who, novm_error_t *err)
{
	int status = 0;

	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	if (WIFSIGNALED(status))
		return novm_error(err, 0, "%s was killed by signal %d before the container was created",
				  who, WTERMSIG(status));
	return novm_error(err, 0, "%s exited (status %d) before the container was created", who,
			  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int create_wait_ready(int fd, pid_t pid, const char *who, const char *want, const sigset_t *signals,
		      bool *child_failed, char *rest, size_t rest_size, novm_error_t *err)
{
	cleanup_close int sfd = signalfd(-1, signals, SFD_CLOEXEC);
	char buf[4096];
	size_t len = 0;
	time_t deadline = time(NULL) + CREATE_TIMEOUT_S;

	if (sfd < 0)
		return novm_error(err, errno, "signalfd");
	for (;;) {
		struct pollfd fds[2] = { { fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		time_t left = deadline - time(NULL);
		if (left <= 0)
			return novm_error(err, ETIMEDOUT, "the VM did not create the container within %d s",
					  CREATE_TIMEOUT_S);
		int n = poll(fds, 2, left * 1000);
		if (n < 0 && errno != EINTR)
			return novm_error(err, errno, "wait for %s", who);
		if (n <= 0)
			continue;
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				return novm_error(err, 0, "interrupted by signal %u while creating the container",
						  si.ssi_signo);
		}
		if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return novm_error(err, errno, "read the ready pipe of %s", who);
		*child_failed = true;
		if (r == 0)
			return describe_early_exit(pid, who, err);
		len += r;
		buf[len] = '\0';
		char *nl = strchr(buf, '\n');
		if (!nl && len < sizeof(buf) - 1)
			continue;
		if (nl)
			*nl = '\0';
		const char *data = ctl_answer_rest(buf, want);
		if (data && (!*data || rest)) {
			if (rest)
				snprintf(rest, rest_size, "%s", data);
			*child_failed = false;
			return 0;
		}
		if (!strncmp(buf, "error ", 6))
			return novm_error(err, 0, "%s", buf + 6);
		return novm_error(err, 0, "unexpected word from %s: \"%.100s\"", who, buf);
	}
}

static int wait_ready(int fd, pid_t pid, const char *want, const sigset_t *signals,
		      bool *vmm_failed, novm_error_t *err)
{
	return create_wait_ready(fd, pid, "the VMM", want, signals, vmm_failed, NULL, 0, err);
}

static int check_terminal(const struct oci_spec *spec, const struct create_options *o,
			  novm_error_t *err)
{
	if (spec->process.terminal && !o->console_socket && !o->foreground)
		return novm_error(err, 0, "cannot allocate tty if runc will detach without setting console socket");
	if (!spec->process.terminal && o->console_socket)
		return novm_error(err, 0, "cannot use console socket if runc will not detach or allocate tty");
	return 0;
}

/* A VMM that reported an error is on its way out: its own exit code says
 * more than our SIGKILL would.  Returns that code, or -1. */
static int end_vmm(pid_t pid, bool failed)
{
	int status;

	for (int i = 0; failed && i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void create_work_release(struct create_work *w, bool failed)
{
	if (failed && w->pid > 0)
		w->exit_code = end_vmm(w->pid, w->vmm_failed);
	if (failed && w->dir) {
		net_release(w->dir);
		state_remove_dir(w->dir);
	}
	if (failed)
		cgroup_remove(w->cgroup);
	int fds[] = { w->console_fd, w->ready[0], w->ready[1], w->go[0], w->go[1], w->pty_master,
		      w->pty_slave };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (failed && w->lock_fd >= 0)
		close(w->lock_fd);
	if (failed)
		free(w->dir);
	netns_plan_release(&w->netns);
	container_vm_release(&w->cvm);
	oci_spec_free(w->spec);
	free(w->cgroup);
	free(w->created);
}

static int prepare(const struct runtime_globals *g, const struct create_options *o,
		   struct create_work *w, novm_error_t *err)
{
	cleanup_free char *console_path = NULL, *pty_name = NULL;

	/* config.json is read once: the text the agent is sent is what was
	 * checked. */
	if (state_check_id(o->id, err) < 0 || oci_spec_load(o->bundle, &w->spec, err) < 0 ||
	    pod_classify(w->spec, &w->pod_role, &w->sandbox_id, err) < 0 ||
	    check_terminal(w->spec, o, err) < 0)
		return -1;
	if (w->pod_role == POD_ROLE_CONTAINER)
		return 0;	/* no VM of its own: pod_container_create() */
	log_msg(LOG_LEVEL_DEBUG, "create %s: bundle %s", o->id, w->spec->bundle);
	compat_warn_config(w->spec);
	if (cgroup_resolve(CGROUP_ROOT, w->spec->linux_.cgroups_path, g->systemd_cgroup, &w->cgroup,
			   err) < 0)
		return -1;
	if (netns_plan(w->spec, &w->netns, err) < 0 ||
	    container_vm_prepare(w->spec, false, &w->cvm, err) < 0)
		return -1;
	w->cvm.pod_share = w->pod_role == POD_ROLE_SANDBOX;
	/* Checked before anything is made, so a bad value leaves nothing. */
	if (w->cgroup && cgroup_limits_for_spec(&w->spec->linux_.resources, w->cvm.memory, &w->limits,
						err) < 0)
		return -1;
	if (state_create_dir(g->root, o->id, &w->dir, &w->lock_fd, err) < 0)
		return -1;
	/* After the directory: a second create of the same id fails there,
	 * before it could touch the first one's cgroup. */
	if (w->cgroup && cgroup_prepare(CGROUP_ROOT, w->cgroup, &w->limits, o->id, err) < 0)
		return -1;
	if (!(w->created = state_now_rfc3339()))
		return novm_error(err, ENOMEM, "state");
	w->state = state_for_spec(w->spec, o->id, w->created);
	if (record_state(w, OCI_STATUS_CREATING, err) < 0)
		return -1;
	if (w->pod_role == POD_ROLE_SANDBOX &&
	    state_write_pod(w->dir, &(struct pod_record){ .role = POD_ROLE_SANDBOX }, err) < 0)
		return -1;
	/* Guest kernel messages go to a log, never to the container's stdout. */
	if (asprintf(&console_path, "%s/console.log", w->dir) < 0)
		return novm_error(err, ENOMEM, "console log");
	w->console_fd = open(console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->console_fd < 0)
		return novm_error(err, errno, "open `%s`", console_path);
	if (pipe2(w->ready, O_CLOEXEC) < 0)
		return novm_error(err, errno, "ready pipe");
	/* A socket: a VMM gone before "go" costs an EPIPE, not a SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, w->go) < 0)
		return novm_error(err, errno, "the VMM's go socket");
	if (hooks_save(w->dir, &w->spec->hooks, w->spec->text, w->spec->text_len, err) < 0)
		return -1;
	if (w->spec->process.terminal && o->console_socket &&
	    pty_open(&w->pty_master, &w->pty_slave, &pty_name, err) < 0)
		return -1;
	return 0;
}

int container_create(const struct runtime_globals *g, const struct create_options *o,
		     struct created_container *out, novm_error_t *err)
{
	struct create_work w = {
		.lock_fd = -1, .console_fd = -1, .ready = { -1, -1 }, .go = { -1, -1 },
		.pty_master = -1, .pty_slave = -1,
		.netns = { .fd = -1 },
		.exit_code = -1,
	};
	sigset_t stop_signals, old_mask;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->lock_fd = -1;
	out->vmm_exit_code = -1;
	if (prepare(g, o, &w, err) < 0)
		goto out;
	if (w.pod_role == POD_ROLE_CONTAINER) {
		if (o->run)
			novm_error(err, 0, "run is not supported for a pod container yet: create and start it");
		else
			ret = pod_container_create(g, o, w.spec, w.sandbox_id, out, err);
		goto out;
	}

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	sigaddset(&stop_signals, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
	fflush(NULL);
	w.pid = fork();
	if (w.pid == 0) {
		const int parent_fds[] = { w.lock_fd, w.ready[0], w.go[1] };
		const struct vmm_child_args args = {
			.cvm = &w.cvm,
			.id = o->id,
			.dir = w.dir,
			.ready_fd = w.ready[1],
			.go_fd = w.go[0],
			.console_log_fd = w.console_fd,
			.pty_master = w.pty_master,
			.pty_slave = w.pty_slave,
			.console_socket = o->console_socket,
			.cgroup = w.cgroup,
			.netns = &w.netns,
			.parent_fds = parent_fds,
			.nr_parent_fds = ARRAY_SIZE(parent_fds),
		};
		vmm_child_main(&args);
	}
	if (w.pid < 0) {
		novm_error(err, errno, "fork the VMM");
		goto out_mask;
	}
	/* Only the child holds these now: EOF on the pipe means it is gone. */
	close(steal_fd(&w.ready[1]));
	close(steal_fd(&w.go[0]));
	if (w.pty_master >= 0)
		close(steal_fd(&w.pty_master));
	if (w.pty_slave >= 0)
		close(steal_fd(&w.pty_slave));

	proc_start_time(w.pid, &w.start_time);
	const struct vmm_record vmm = {
		.pid = w.pid, .start_time = w.start_time, .cgroup = w.cgroup, .memory = w.cvm.memory,
	};
	if (state_write_vmm(w.dir, &vmm, err) < 0)
		goto out_mask;
	log_msg(LOG_LEVEL_DEBUG, "create %s: VMM pid %d forked, waiting for its guest", o->id, w.pid);
	if (wait_ready(w.ready[0], w.pid, "netns", &stop_signals, &w.vmm_failed, err) < 0 ||
	    run_create_hooks(&w, false, err) < 0)
		goto out_mask;
	if (send_all(w.go[1], "go\n", 3) < 0) {
		novm_error(err, errno, "tell the VMM to boot");
		goto out_mask;
	}
	log_msg(LOG_LEVEL_DEBUG, "create %s: the VMM boots the guest", o->id);
	if (wait_ready(w.ready[0], w.pid, "ok", &stop_signals, &w.vmm_failed, err) < 0) {
		/* A guest that never came up: the VMM's view goes to the log. */
		if ((*err)->errno_ == ETIMEDOUT)
			ctl_log_stall(w.dir, "create");
		goto out_mask;
	}
	if (run_create_hooks(&w, true, err) < 0)
		goto out_mask;
	if (record_state(&w, OCI_STATUS_CREATED, err) < 0 ||
	    (o->pid_file && write_pid_file(o->pid_file, w.pid, err) < 0) ||
	    (o->pidfd_socket && compat_send_pidfd(o->pidfd_socket, w.pid, "standard", err) < 0))
		goto out_mask;
	log_msg(LOG_LEVEL_DEBUG, "container %s created: VMM pid %d", o->id, w.pid);
	out->dir = steal_pointer(&w.dir);
	out->lock_fd = steal_fd(&w.lock_fd);
	out->pid = w.pid;
	out->start_time = w.start_time;
	out->terminal = w.spec->process.terminal;
	ret = 0;
out_mask:
	/* Undone before the signals come back: one of them may be pending. */
	create_work_release(&w, ret < 0);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	out->vmm_exit_code = w.exit_code;
	return ret;
out:
	create_work_release(&w, ret < 0);
	return ret;
}

void created_container_release(struct created_container *c)
{
	free(c->dir);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
}
