#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include "cleanup.h"

int netns_plan(const struct oci_spec *spec, struct netns_plan *out, novm_error_t *err)
{
	const struct oci_namespace *net = oci_spec_namespace(spec, "network");

	*out = (struct netns_plan){ .fd = -1 };
	if (!net)
		return novm_error(err, 0,
				  "config.json has no network namespace (host networking): a VM cannot "
				  "share the host's network stack; give the container a network "
				  "namespace (e.g. --network none)");
	if (!net->path) {
		out->unshare = true;
		return 0;
	}
	if (netns_open(net->path, &out->fd, err) < 0)
		return -1;
	out->path = net->path;
	return 0;
}

int netns_open(const char *path, int *fd_out, novm_error_t *err)
{
	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	cleanup_close int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int type;

	if (fd < 0)
		return novm_error(err, errno, "network namespace `%s`", path);
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0 || type != CLONE_NEWNET)
		return novm_error(err, type < 0 ? errno : 0,
				  "network namespace `%s`: not a network namespace", path);
	*fd_out = steal_fd(&fd);
	return 0;
}

void netns_plan_release(struct netns_plan *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int netns_enter(struct netns_plan *p, novm_error_t *err)
{
	if (p->unshare && unshare(CLONE_NEWNET) < 0)
		return novm_error(err, errno, "make a network namespace for the VMM");
	if (p->fd >= 0 && setns(p->fd, CLONE_NEWNET) < 0)
		return novm_error(err, errno, "join the container's network namespace");
	netns_plan_release(p);
	return 0;
}
