/* A namespace link joined to the guest's NIC: a tap of ours and tc
 * redirects both ways (what Kata calls the tcfilter model).  Everything
 * arriving on the link is stolen at its ingress and sent out of the tap,
 * to the VMM; every frame the VMM writes to the tap leaves by the link.
 * The namespace's own stack sees none of it, so its addresses (kept for
 * the client's `ip addr` and inspection) never answer for the guest. */
#include "netconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "netns.h"
#include "rtnl.h"
#include "util.h"
#include "vmm/vmm.h"

#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)

static struct nlmsghdr *tc_message(char *buf, int type, unsigned int flags, int ifindex,
				   unsigned int parent, unsigned int handle)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct tcmsg *tcm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	return nlh;
}

static int set_ingress(struct rtnl *nl, int ifindex, bool add, novm_error_t *err)
{
	char buf[RTNL_BUF_SIZE];
	struct nlmsghdr *nlh = tc_message(buf, add ? RTM_NEWQDISC : RTM_DELQDISC,
					  add ? NLM_F_CREATE | NLM_F_EXCL : 0, ifindex, TC_H_INGRESS,
					  INGRESS_HANDLE);

	mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
	return rtnl_talk(nl, nlh, add ? "add an ingress qdisc" : "remove an ingress qdisc", err);
}

/* There may be none: nothing to report. */
static void remove_ingress(struct rtnl *nl, int ifindex)
{
	novm_error_t ignored = NULL;

	if (set_ingress(nl, ifindex, false, &ignored) < 0)
		novm_error_release(&ignored);
}

/* tc filter add dev FROM ingress protocol all matchall
 *	action mirred egress redirect dev TO */
static int add_redirect(struct rtnl *nl, int from, int to, novm_error_t *err)
{
	char buf[RTNL_BUF_SIZE];
	struct nlmsghdr *nlh = tc_message(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, from,
					  INGRESS_HANDLE, 0);
	struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct tc_mirred mirred = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_EGRESS_REDIR,
		.ifindex = (unsigned int)to,
	};

	tcm->tcm_info = TC_H_MAKE(1U << 16, htons(ETH_P_ALL));	/* priority 1 */
	mnl_attr_put_strz(nlh, TCA_KIND, "matchall");
	struct nlattr *options = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	struct nlattr *actions = mnl_attr_nest_start(nlh, TCA_MATCHALL_ACT);
	struct nlattr *first = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	struct nlattr *act_options = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(mirred), &mirred);
	mnl_attr_nest_end(nlh, act_options);
	mnl_attr_nest_end(nlh, first);
	mnl_attr_nest_end(nlh, actions);
	mnl_attr_nest_end(nlh, options);
	return rtnl_talk(nl, nlh, "add a mirred redirect", err);
}

static int link_up(struct rtnl *nl, int ifindex, unsigned int mtu, novm_error_t *err)
{
	char buf[RTNL_BUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return rtnl_talk(nl, nlh, "bring a link up", err);
}

int net_connect(const struct net_iface *iface, int *tap_fd, novm_error_t *err)
{
	cleanup_rtnl struct rtnl nl = { 0 };
	cleanup_close int fd = -1;
	char name[IF_NAMESIZE];
	int tap;

	/* The link's index keeps the name unique and within IFNAMSIZ. */
	snprintf(name, sizeof(name), "novmtap%d", iface->ifindex);
	if (tap_create(name, &fd, err) < 0 || !(tap = (int)if_nametoindex(name)))
		goto fail;
	if (rtnl_open(&nl, err) < 0 || link_up(&nl, tap, iface->mtu, err) < 0 ||
	    link_up(&nl, iface->ifindex, 0, err) < 0)
		goto fail;
	/* An ingress left by a VMM before us (a namespace that outlived it)
	 * would still steal the link's traffic for a tap that is gone. */
	remove_ingress(&nl, iface->ifindex);
	if (set_ingress(&nl, iface->ifindex, true, err) < 0 || set_ingress(&nl, tap, true, err) < 0 ||
	    add_redirect(&nl, iface->ifindex, tap, err) < 0 || add_redirect(&nl, tap, iface->ifindex, err) < 0)
		goto fail;
	*tap_fd = steal_fd(&fd);
	return 0;
fail:
	if (nl.sock)
		remove_ingress(&nl, iface->ifindex);
	return novm_error_wrap(err, "network: connect link %s to the VM", iface->name);
}

void net_disconnect(const struct net_iface *iface)
{
	cleanup_rtnl struct rtnl nl = { 0 };
	novm_error_t ignored = NULL;

	if (rtnl_open(&nl, &ignored) < 0) {
		novm_error_release(&ignored);
		return;
	}
	remove_ingress(&nl, iface->ifindex);
}

#define NET_RECORD "network-links"

int net_record(const char *dir, const char *netns_path, const struct net_plan *plan,
	       novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!plan->nr_ifaces)
		return 0;
	if (asprintf(&path, "%s/" NET_RECORD, dir) < 0 || !(out = open_memstream(&text, &len)))
		return novm_error(err, ENOMEM, NET_RECORD);
	/* One name a line: a path with a newline cannot be recorded. */
	fprintf(out, "%s\n", strchr(netns_path, '\n') ? "" : netns_path);
	for (int i = 0; i < plan->nr_ifaces; i++)
		fprintf(out, "%s\n", plan->ifaces[i].name);
	if (fclose(out) != 0)
		return novm_error(err, ENOMEM, NET_RECORD);
	return write_file_atomic(path, text, len, 0600, err);
}

/* In a child (fork_call), as setns would move the caller (its hooks run in
 * the host's namespace). */
static int release_in(void *opaque, novm_error_t *err)
{
	char *save = NULL, *nspath = strtok_r(opaque, "\n", &save);
	cleanup_rtnl struct rtnl nl = { 0 };
	cleanup_close int fd = -1;

	if (!nspath || netns_open(nspath, &fd, err) < 0)
		return -1;
	if (setns(fd, CLONE_NEWNET) < 0)
		return novm_error(err, errno, "network: join %s", nspath);
	/* Opened in the namespace joined: its links are the ones to free. */
	if (rtnl_open(&nl, err) < 0)
		return -1;
	for (char *name; (name = strtok_r(NULL, "\n", &save));) {
		int index = (int)if_nametoindex(name);
		if (index > 0)
			remove_ingress(&nl, index);
	}
	return 0;
}

void net_release(const char *dir)
{
	cleanup_free char *path = NULL, *text = NULL;
	novm_error_t ignored = NULL;
	size_t len;

	if (asprintf(&path, "%s/" NET_RECORD, dir) < 0 || read_file(path, &text, &len, NULL) < 0)
		return;
	if (fork_call(release_in, text, "network: release the links", &ignored) < 0)
		novm_error_release(&ignored);
}
