#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "devcgroup.h"

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

int container_ns_init(struct container_ns *ns, const struct oci_spec *spec, novm_error_t *err)
{
	*ns = (struct container_ns){
		.cgroup_fd = -1, .procs_fd = -1, .own_pid_ns_fd = -1,
		.mnt_ns_fd = -1, .pid_ns_fd = -1, .cgroup_ns_fd = -1, .root_fd = -1,
		.new_pid = oci_spec_namespace(spec, "pid") != NULL,
		/* Always, listed or not: without one the container's cgroup2
		 * mount would show the guest's whole hierarchy, and its root
		 * could leave its cgroup (and the device program) for the
		 * guest's root one.  Docker's default on cgroup v2 too. */
		.new_cgroup = true,
	};
	if (mount_cgroup2(err) < 0)
		goto fail;
	if (mkdir(NS_CONTAINER_CGROUP, 0755) < 0 && errno != EEXIST) {
		novm_error(err, errno, "mkdir %s", NS_CONTAINER_CGROUP);
		goto fail;
	}
	/* Not O_PATH: BPF_PROG_ATTACH wants a real directory fd. */
	ns->cgroup_fd = open(NS_CONTAINER_CGROUP, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ns->procs_fd = open(NS_CONTAINER_CGROUP "/cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (ns->cgroup_fd < 0 || ns->procs_fd < 0) {
		novm_error(err, errno, "open %s", NS_CONTAINER_CGROUP);
		goto fail;
	}
	if (devcgroup_apply_spec(ns->cgroup_fd, spec, err) < 0)
		goto fail;
	ns->own_pid_ns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (ns->own_pid_ns_fd < 0) {
		novm_error(err, errno, "open /proc/self/ns/pid");
		goto fail;
	}
	return 0;
fail:
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
}

pid_t container_ns_fork(struct container_ns *ns, bool init, novm_error_t *err)
{
	bool switched = false;
	pid_t pid;
	int saved;

	/* A PID namespace is chosen for the children only: the agent itself
	 * never moves, and goes back to its own once the child exists. */
	if (init && ns->new_pid) {
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
	if (unshare(CLONE_NEWNS | (ns->new_cgroup ? CLONE_NEWCGROUP : 0)) < 0)
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
	if (setns(ns->mnt_ns_fd, CLONE_NEWNS) < 0)
		return novm_error(err, errno, "enter the container's mount namespace");
	/* setns roots us at the top mount over the namespace's root, which is
	 * the initramfs once a container lazily unmounts its "/": take the
	 * init's root as it was set up instead. */
	if (fchdir(ns->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return novm_error(err, errno, "enter the container's root");
	return 0;
}

static int open_ns(pid_t pid, const char *name, int *out, novm_error_t *err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	*out = open(path, O_RDONLY | O_CLOEXEC);
	if (*out < 0)
		return novm_error(err, errno, "open %s", path);
	return 0;
}

int container_ns_record(struct container_ns *ns, pid_t init, novm_error_t *err)
{
	char root[64];

	snprintf(root, sizeof(root), "/proc/%d/root", (int)init);
	ns->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ns->root_fd < 0)
		return novm_error(err, errno, "open %s", root);
	if (open_ns(init, "mnt", &ns->mnt_ns_fd, err) < 0 ||
	    (ns->new_pid && open_ns(init, "pid", &ns->pid_ns_fd, err) < 0) ||
	    (ns->new_cgroup && open_ns(init, "cgroup", &ns->cgroup_ns_fd, err) < 0))
		return novm_error_wrap(err, "container namespaces");
	return 0;
}
