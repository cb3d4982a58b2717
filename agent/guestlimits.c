#include "guestlimits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "namespaces.h"

static int write_at(int dir_fd, const char *name, const char *value, novm_error_t *err)
{
	cleanup_close int fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return novm_error(err, errno, "open %s", name);
	/* One write: a cgroup file takes its value whole. */
	n = write(fd, value, len);
	if (n != (ssize_t)len)
		return novm_error(err, n < 0 ? errno : EIO, "write \"%s\" to %s", value, name);
	return 0;
}

/* A new cgroup's files read "max" already: writing it needs no controller. */
static bool limits(const char *value)
{
	return value[0] && strncmp(value, "max", 3) != 0;
}

int guest_controller_enable(const char *name, novm_error_t *err)
{
	char plus[16];

	snprintf(plus, sizeof(plus), "+%s", name);
	cleanup_close int root = open(NS_CGROUP_MOUNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return novm_error(err, errno, "open %s", NS_CGROUP_MOUNT);
	if (write_at(root, "cgroup.subtree_control", plus, err) < 0)
		return novm_error_wrap(err, "the guest kernel's %s controller", name);
	return 0;
}

/* The controllers the limits need.  A controller the guest kernel lacks
 * is an error naming it. */
static int enable_for(const struct cgroup_limits *l, novm_error_t *err)
{
	for (size_t i = 0; i < CGROUP_LIMIT_FILES; i++)
		if (*cgroup_limit_value(l, i) &&
		    guest_controller_enable(cgroup_limit_files[i].controller, err) < 0)
			return novm_error_wrap(err, "linux.resources");
	return 0;
}

int guest_limits_apply(int cgroup_fd, const struct oci_spec *spec, bool pod, novm_error_t *err)
{
	struct cgroup_limits l;

	if (!spec->has_linux)
		return 0;
	if (cgroup_limits_for_guest(&spec->linux_.resources, &l, err) < 0)
		return -1;
	/* A VM's only container has its vCPUs and the host's cpu.max on the
	 * VMM: a second quota in the guest, on periods of its own, would
	 * throttle it below what it was given. */
	if (!pod)
		l.cpu_max[0] = l.cpu_weight[0] = '\0';
	/* "max" is what a new cgroup has (Docker's -1s): nothing to write,
	 * and no controller needed for it. */
	if (!limits(l.memory_max))
		l.memory_max[0] = '\0';
	if (!limits(l.cpu_max))
		l.cpu_max[0] = '\0';
	if (!limits(l.pids_max))
		l.pids_max[0] = '\0';
	if (enable_for(&l, err) < 0) {
		/* A VM's only container is held by the VM's size still. */
		if (pod)
			return -1;
		agent_warn(err, "not applied in the guest");
		return 0;
	}
	for (size_t i = 0; i < CGROUP_LIMIT_FILES; i++) {
		const char *value = cgroup_limit_value(&l, i);
		if (*value && write_at(cgroup_fd, cgroup_limit_files[i].file, value, err) < 0)
			return novm_error_wrap(err, "linux.resources");
	}
	return 0;
}
