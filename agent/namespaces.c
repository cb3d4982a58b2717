#include "namespaces.h"

#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "devcgroup.h"
#include "guestlimits.h"
#include "log.h"
#include "procinfo.h"
#include "link.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int mount_cgroup2(novm_error_t *err)
{
	struct statfs sf;

	if (statfs(NS_CGROUP_MOUNT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return 0;
	if (mkdir(NS_CGROUP_MOUNT, 0755) < 0 && errno != EEXIST)
		return novm_error(err, errno, "mkdir %s", NS_CGROUP_MOUNT);
	if (mount("cgroup2", NS_CGROUP_MOUNT, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return novm_error(err, errno, "mount cgroup2 on %s", NS_CGROUP_MOUNT);
	return 0;
}

/* OCI's names of the shared namespaces, /proc's, and their clone flags. */
static const struct {
	const char *oci, *proc;
	int flag;
} shared_kinds[NS_SHARED_N] = {
	[NS_SHARED_NET] = { "network", "net", CLONE_NEWNET },
	[NS_SHARED_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[NS_SHARED_UTS] = { "uts", "uts", CLONE_NEWUTS },
};

static int open_ns(pid_t pid, const char *name, int *out, novm_error_t *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	*out = open(path, O_RDONLY | O_CLOEXEC);
	if (*out < 0)
		return novm_error(err, errno, "open %s", path);
	return 0;
}

static void cgroup_path(const struct container_ns *ns, const char *file, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", NS_CGROUP_MOUNT, ns->cgroup_name, file ? "/" : "",
		 file ? file : "");
}

/* For "stats <session>": memory.current in the pods' cgroups.  The
 * sandbox's cgroup gets accounted too, which it does not mind. */
static void enable_memory_accounting(void)
{
	novm_error_t err = NULL;

	if (guest_controller_enable("memory", &err) < 0)
		agent_warn(&err, "pod");
}

/* A pod container: which of the sandbox's namespaces its init joins.  The
 * path in the spec is the host's view of the sandbox's: only its presence
 * counts. */
static int plan_pod(struct container_ns *ns, const struct oci_spec *spec, pid_t sandbox,
		    novm_error_t *err)
{
	const struct oci_namespace *n = oci_spec_namespace(spec, "mount");

	if (n && n->path)
		return novm_error(err, 0,
				  "linux.namespaces: a pod container has a mount namespace of its own (mount has a path)");
	for (size_t k = 0; k < NS_SHARED_N; k++) {
		n = oci_spec_namespace(spec, shared_kinds[k].oci);
		if (n && n->path) {
			if (open_ns(sandbox, shared_kinds[k].proc, &ns->join_fds[k], err) < 0)
				return novm_error_wrap(err, "the sandbox's %s namespace", shared_kinds[k].oci);
		} else if (n) {
			ns->unshare_more |= shared_kinds[k].flag;
		}
	}
	n = oci_spec_namespace(spec, "pid");
	if (n && n->path && open_ns(sandbox, "pid", &ns->join_pid_fd, err) < 0)
		return novm_error_wrap(err, "the sandbox's pid namespace");
	ns->new_pid = ns->join_pid_fd < 0;
	enable_memory_accounting();
	return 0;
}

int container_ns_init(struct container_ns *ns, const struct oci_spec *spec, uint32_t session,
		      pid_t sandbox_init, novm_error_t *err)
{
	char path[sizeof(NS_CGROUP_MOUNT) + NS_CGROUP_NAME_MAX + 16];
	bool pod = sandbox_init > 0, made = false;

	*ns = (struct container_ns){
		.cgroup_fd = -1, .procs_fd = -1, .own_pid_ns_fd = -1,
		.mnt_ns_fd = -1, .pid_ns_fd = -1, .cgroup_ns_fd = -1, .root_fd = -1,
		.shared_fds = { -1, -1, -1 }, .join_fds = { -1, -1, -1 }, .join_pid_fd = -1,
		.new_pid = oci_spec_namespace(spec, "pid") != NULL,
		/* Always, listed or not: without one the container's cgroup2
		 * mount would show the guest's whole hierarchy, and its root
		 * could leave its cgroup (and the device program) for the
		 * guest's root one.  Docker's default on cgroup v2 too. */
		.new_cgroup = true,
	};
	if (pod)
		snprintf(ns->cgroup_name, sizeof(ns->cgroup_name), NS_POD_CGROUP_PREFIX "%u", session);
	else
		snprintf(ns->cgroup_name, sizeof(ns->cgroup_name), NS_CONTAINER_CGROUP_NAME);
	cgroup_path(ns, NULL, path, sizeof(path));
	if (mount_cgroup2(err) < 0 || (pod && plan_pod(ns, spec, sandbox_init, err) < 0))
		goto fail;
	/* A pod container's cgroup is new: one left over would be a
	 * container still being torn down. */
	if (mkdir(path, 0755) < 0 && (pod || errno != EEXIST)) {
		novm_error(err, errno, "mkdir %s", path);
		goto fail;
	}
	made = pod;
	/* Not O_PATH: BPF_PROG_ATTACH wants a real directory fd. */
	ns->cgroup_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cgroup_path(ns, "cgroup.procs", path, sizeof(path));
	ns->procs_fd = open(path, O_WRONLY | O_CLOEXEC);
	if (ns->cgroup_fd < 0 || ns->procs_fd < 0) {
		novm_error(err, errno, "open %s", path);
		goto fail;
	}
	if (devcgroup_apply_spec(ns->cgroup_fd, spec, err) < 0 ||
	    guest_limits_apply(ns->cgroup_fd, spec, pod, err) < 0)
		goto fail;
	ns->own_pid_ns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (ns->own_pid_ns_fd < 0) {
		novm_error(err, errno, "open /proc/self/ns/pid");
		goto fail;
	}
	return 0;
fail:
	if (made)
		container_ns_remove_cgroup(ns);
	container_ns_release(ns);
	return novm_error_wrap(err, "container namespaces");
}

void container_ns_release(struct container_ns *ns)
{
	close_and_forget(&ns->cgroup_fd);
	close_and_forget(&ns->procs_fd);
	close_and_forget(&ns->own_pid_ns_fd);
	close_and_forget(&ns->mnt_ns_fd);
	close_and_forget(&ns->pid_ns_fd);
	close_and_forget(&ns->cgroup_ns_fd);
	close_and_forget(&ns->root_fd);
	close_and_forget(&ns->join_pid_fd);
	for (size_t k = 0; k < NS_SHARED_N; k++) {
		close_and_forget(&ns->shared_fds[k]);
		close_and_forget(&ns->join_fds[k]);
	}
}

struct signal_walk {
	int sig, errno_;
	char failed[16];
};

static void signal_one(const char *pid, void *opaque)
{
	struct signal_walk *w = opaque;

	if (kill((pid_t)strtol(pid, NULL, 10), w->sig) < 0 && errno != ESRCH && !w->errno_) {
		w->errno_ = errno;
		snprintf(w->failed, sizeof(w->failed), "%s", pid);
	}
}

int container_ns_signal_all(const struct container_ns *ns, int sig, novm_error_t *err)
{
	struct signal_walk w = { .sig = sig };

	if (sig <= 0 || sig >= NSIG)
		return novm_error(err, 0, "invalid signal %d", sig);
	/* SIGKILL at once to the whole cgroup, forks racing with us included
	 * (Linux 5.14); else, and for other signals, one by one. */
	if (sig == SIGKILL) {
		char path[sizeof(NS_CGROUP_MOUNT) + NS_CGROUP_NAME_MAX + 16];
		cleanup_close int fd = -1;

		cgroup_path(ns, "cgroup.kill", path, sizeof(path));
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, "1", 1) == 1)
			return 0;
	}
	if (proc_each_in_cgroup(ns->cgroup_name, signal_one, &w) < 0)
		return novm_error(err, errno, "open /proc");
	if (w.errno_)
		return novm_error(err, w.errno_, "kill %s %d", w.failed, sig);
	return 0;
}

/* nftw: cgroup directories go deepest first; their files go with them. */
static int rmdir_cgroup(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP && rmdir(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int container_ns_remove_cgroup(const struct container_ns *ns)
{
	char path[sizeof(NS_CGROUP_MOUNT) + NS_CGROUP_NAME_MAX + 16];

	container_ns_signal_all(ns, SIGKILL, NULL);
	cgroup_path(ns, NULL, path, sizeof(path));
	/* With the cgroups a privileged container made under its own
	 * (systemd, a nested runtime), which would keep it busy for good. */
	if (nftw(path, rmdir_cgroup, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

pid_t container_ns_fork(struct container_ns *ns, bool init, novm_error_t *err)
{
	bool switched = false;
	pid_t pid;
	int saved;

	/* A PID namespace is chosen for the children only: the agent itself
	 * never moves, and goes back to its own once the child exists. */
	if (init && ns->join_pid_fd >= 0) {
		if (setns(ns->join_pid_fd, CLONE_NEWPID) < 0)
			return novm_error(err, errno, "enter the sandbox's PID namespace");
		switched = true;
	} else if (init && ns->new_pid) {
		if (unshare(CLONE_NEWPID) < 0)
			return novm_error(err, errno, "unshare the PID namespace");
		switched = true;
	} else if (!init && ns->pid_ns_fd >= 0) {
		if (setns(ns->pid_ns_fd, CLONE_NEWPID) < 0)
			return novm_error(err, errno, "enter the container's PID namespace");
		switched = true;
	} else if (!init && ns->mnt_ns_fd < 0) {
		return novm_error(err, 0, "the container is not set up");
	}
	pid = fork();
	saved = errno;
	if (pid != 0 && switched && setns(ns->own_pid_ns_fd, CLONE_NEWPID) < 0)
		return novm_error(err, errno, "return to the agent's PID namespace");
	if (pid < 0 && saved == ENOMEM && !init && ns->pid_ns_fd >= 0)
		/* what fork says once a PID namespace's init has exited */
		return novm_error(err, 0, "the container's process has exited");
	if (pid < 0)
		return novm_error(err, saved, "fork into the container");
	return pid;
}

static int join_cgroup(const struct container_ns *ns, novm_error_t *err)
{
	/* "0" is the writer itself. */
	if (write(ns->procs_fd, "0", 1) != 1)
		return novm_error(err, errno, "join the container's cgroup");
	return 0;
}

int container_ns_enter_new(const struct container_ns *ns, novm_error_t *err)
{
	if (join_cgroup(ns, err) < 0)
		return -1;
	for (size_t k = 0; k < NS_SHARED_N; k++)
		if (ns->join_fds[k] >= 0 && setns(ns->join_fds[k], shared_kinds[k].flag) < 0)
			return novm_error(err, errno, "enter the sandbox's %s namespace",
					  shared_kinds[k].oci);
	if (unshare(CLONE_NEWNS | (ns->new_cgroup ? CLONE_NEWCGROUP : 0) | ns->unshare_more) < 0)
		return novm_error(err, errno, "unshare the mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return novm_error(err, errno, "make the mounts private");
	return 0;
}

int container_ns_enter_existing(const struct container_ns *ns, novm_error_t *err)
{
	if (join_cgroup(ns, err) < 0)
		return -1;
	if (ns->cgroup_ns_fd >= 0 && setns(ns->cgroup_ns_fd, CLONE_NEWCGROUP) < 0)
		return novm_error(err, errno, "enter the container's cgroup namespace");
	for (size_t k = 0; k < NS_SHARED_N; k++)
		if (ns->shared_fds[k] >= 0 && setns(ns->shared_fds[k], shared_kinds[k].flag) < 0)
			return novm_error(err, errno, "enter the container's %s namespace",
					  shared_kinds[k].oci);
	if (setns(ns->mnt_ns_fd, CLONE_NEWNS) < 0)
		return novm_error(err, errno, "enter the container's mount namespace");
	/* setns roots us at the top mount over the namespace's root, which is
	 * the initramfs once a container lazily unmounts its "/": take the
	 * init's root as it was set up instead. */
	if (fchdir(ns->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return novm_error(err, errno, "enter the container's root");
	return 0;
}

int container_ns_record(struct container_ns *ns, pid_t init, novm_error_t *err)
{
	char root[64];

	snprintf(root, sizeof(root), "/proc/%d/root", (int)init);
	ns->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ns->root_fd < 0)
		return novm_error(err, errno, "open %s", root);
	for (size_t k = 0; k < NS_SHARED_N; k++)
		if (open_ns(init, shared_kinds[k].proc, &ns->shared_fds[k], err) < 0)
			return novm_error_wrap(err, "container namespaces");
	if (open_ns(init, "mnt", &ns->mnt_ns_fd, err) < 0 ||
	    ((ns->new_pid || ns->join_pid_fd >= 0) && open_ns(init, "pid", &ns->pid_ns_fd, err) < 0) ||
	    (ns->new_cgroup && open_ns(init, "cgroup", &ns->cgroup_ns_fd, err) < 0))
		return novm_error_wrap(err, "container namespaces");
	return 0;
}
