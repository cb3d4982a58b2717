/* Links a client adds between create and start (ctr's CNI): the VM's
 * spare NICs take them at start (netconf.h). */
#include "netconf.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "control-client.h"
#include "log.h"
#include "netns.h"
#include "proc.h"
#include "util.h"

#define SPARES_RECORD "network-spares"

_Static_assert(NET_SPARE_NICS <= CONTROL_MAX_NIC_FDS, "one nics request takes every spare");

int net_record_spares(const char *dir, int nr_spares, novm_error_t *err)
{
	cleanup_free char *path = NULL;
	char text[16];

	if (asprintf(&path, "%s/" SPARES_RECORD, dir) < 0)
		return novm_error(err, ENOMEM, SPARES_RECORD);
	snprintf(text, sizeof(text), "%d\n", nr_spares);
	return write_file_atomic(path, text, strlen(text), 0600, err);
}

static int recorded_spares(const char *dir)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t len;

	if (asprintf(&path, "%s/" SPARES_RECORD, dir) < 0 || read_file(path, &text, &len, NULL) < 0)
		return 0;
	int n = atoi(text);
	return n > 0 && n <= NET_SPARE_NICS ? n : 0;
}

/* Joins the VMM's namespace, refusing the one we are in (the host's: the
 * links there are the host's own). */
static int join_vmm_netns(pid_t vmm_pid, uint64_t start_time, novm_error_t *err)
{
	cleanup_close int fd = -1;
	char path[64];
	struct stat theirs, ours;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)vmm_pid);
	if (netns_open(path, &fd, err) < 0)
		return -1;
	/* Still the VMM once the namespace is ours: not a process that got
	 * its pid since. */
	if (!proc_alive(vmm_pid, start_time))
		return novm_error(err, ESRCH, "network: the VMM (pid %d) is gone", (int)vmm_pid);
	if (fstat(fd, &theirs) < 0 || stat("/proc/self/ns/net", &ours) < 0)
		return novm_error(err, errno, "network: the VMM's namespace");
	if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
		return novm_error(err, 0, "network: the VMM (pid %d) is in our own network namespace",
				  (int)vmm_pid);
	if (setns(fd, CLONE_NEWNET) < 0)
		return novm_error(err, errno, "network: join the VMM's namespace");
	return 0;
}

/* The plan's links on taps, the taps to the VMM, the plan to the agent. */
static int hand_over(const char *dir, const struct net_plan *plan, novm_error_t *err)
{
	int fds[NET_SPARE_NICS], nr_fds = 0, ret = -1;
	cleanup_free char *json = NULL, *request = NULL;
	size_t len = 0;
	FILE *out;

	for (; nr_fds < plan->nr_ifaces; nr_fds++)
		if (net_connect(&plan->ifaces[nr_fds], &fds[nr_fds], err) < 0)
			goto out;
	if (!(out = open_memstream(&json, &len))) {
		novm_error(err, ENOMEM, "network");
		goto out;
	}
	/* The DNS relay is create's business alone. */
	net_plan_json(plan, NULL, out);
	if (fclose(out) != 0 || asprintf(&request, CONTROL_REQ_NICS " %zu", len) < 0) {
		novm_error(err, ENOMEM, "network");
		goto out;
	}
	ret = ctl_call_with(dir, request, fds, nr_fds, json, len, NULL, err);
	if (ret < 0)
		novm_error_wrap(err, "network: the VMM took no link");
out:
	for (int i = 0; i < nr_fds; i++)
		close(fds[i]);
	/* The VMM refused them: the links are the namespace's again. */
	if (ret < 0)
		for (int i = 0; i < nr_fds; i++)
			net_disconnect(&plan->ifaces[i]);
	return ret;
}

struct start_links {
	const char *dir;
	pid_t vmm_pid;
	uint64_t start_time;
	int nr_spares;
};

/* In a child (fork_call): setns would move us, and our hooks run in the
 * host's namespace. */
static int start_links_in_child(void *opaque, novm_error_t *err)
{
	const struct start_links *s = opaque;
	struct net_plan plan;

	if (join_vmm_netns(s->vmm_pid, s->start_time, err) < 0 || net_discover(&plan, err) < 0)
		return -1;
	if (!plan.nr_ifaces) {
		log_msg(LOG_LEVEL_DEBUG, "network: no link came between create and start");
		return 0;
	}
	net_plan_for_spares(&plan, s->nr_spares);
	for (int i = 0; i < plan.nr_ifaces; i++)
		log_msg(LOG_LEVEL_DEBUG, "network: link %s (%d addresses) takes spare NIC %d",
			plan.ifaces[i].name, plan.ifaces[i].nr_addrs, plan.ifaces[i].spare);
	return hand_over(s->dir, &plan, err);
}

int net_start_links(const char *dir, pid_t vmm_pid, uint64_t start_time, novm_error_t *err)
{
	struct start_links s = { dir, vmm_pid, start_time, recorded_spares(dir) };

	if (!s.nr_spares)
		return 0;
	return fork_call(start_links_in_child, &s, "network: the links' set-up", err);
}
