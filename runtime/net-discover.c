/* What the client put in the container's network namespace: links,
 * addresses and routes, read with route netlink dumps. */
#include "netconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "rtnl.h"
#include "util.h"

/* Our taps' names start so (net-plumb.c): never links of the plan. */
#define NET_TAP_PREFIX "novmtap"

struct discovery {
	struct net_plan *plan;
	int skipped_ifaces, skipped_addrs, skipped_routes;
};

/* The plan is ours to fill. */
static struct net_iface *find_iface(struct net_plan *plan, int ifindex)
{
	return (struct net_iface *)net_plan_iface(plan, ifindex);
}

/* Collects a message's attributes by type (up to `max`), as libmnl's
 * examples do; unknown and malformed ones are left out. */
struct attrs {
	const struct nlattr *tb[IFLA_MAX + 1];
	int max;
};
_Static_assert(IFA_MAX <= IFLA_MAX && RTA_MAX <= IFLA_MAX, "attrs holds every family's");

static int collect_attr(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, a->max) > 0)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

/* The name of a link a guest could have (Ethernet, not loopback, not one
 * of our taps), its attributes in *a; NULL for any other. */
static const char *guest_link(const struct nlmsghdr *nlh, struct attrs *a)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const char *name;

	a->max = IFLA_MAX;
	if (mnl_attr_parse(nlh, sizeof(*ifi), collect_attr, a) < 0 || ifi->ifi_type != ARPHRD_ETHER ||
	    (ifi->ifi_flags & IFF_LOOPBACK) || !a->tb[IFLA_IFNAME] || !a->tb[IFLA_ADDRESS] ||
	    mnl_attr_get_payload_len(a->tb[IFLA_ADDRESS]) != 6)
		return NULL;
	name = mnl_attr_get_str(a->tb[IFLA_IFNAME]);
	return strncmp(name, NET_TAP_PREFIX, strlen(NET_TAP_PREFIX)) ? name : NULL;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	struct discovery *d = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct attrs a = { 0 };
	const char *name = guest_link(nlh, &a);

	if (!name)
		return MNL_CB_OK;
	/* The kernel takes any byte but '/', ':' and spaces; the agent's JSON
	 * carries only text. */
	for (const char *c = name; *c; c++) {
		if (*c < 0x21 || *c > 0x7e) {
			log_msg(LOG_LEVEL_WARNING, "network: a link whose name is not printable ASCII is left out");
			return MNL_CB_OK;
		}
	}
	if (d->plan->nr_ifaces == NET_MAX_IFACES) {
		log_msg(LOG_LEVEL_WARNING, "network: link %s left out: the VM has %d NICs at most",
			name, NET_MAX_IFACES);
		d->skipped_ifaces++;
		return MNL_CB_OK;
	}
	struct net_iface *iface = &d->plan->ifaces[d->plan->nr_ifaces++];
	iface->ifindex = ifi->ifi_index;
	snprintf(iface->name, sizeof(iface->name), "%s", name);
	memcpy(iface->mac, mnl_attr_get_payload(a.tb[IFLA_ADDRESS]), 6);
	iface->mtu = a.tb[IFLA_MTU] ? mnl_attr_get_u32(a.tb[IFLA_MTU]) : 1500;
	return MNL_CB_OK;
}

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct discovery *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct attrs a = { .max = IFA_MAX };
	struct net_iface *iface = find_iface(d->plan, (int)ifa->ifa_index);
	size_t len = family_len(ifa->ifa_family);
	const struct nlattr *at;

	if (!iface || !len || mnl_attr_parse(nlh, sizeof(*ifa), collect_attr, &a) < 0)
		return MNL_CB_OK;
	/* IFA_LOCAL is the address itself on point-to-point links too. */
	at = a.tb[IFA_LOCAL] ? a.tb[IFA_LOCAL] : a.tb[IFA_ADDRESS];
	if (!at || mnl_attr_get_payload_len(at) != len || ifa->ifa_prefixlen > len * 8)
		return MNL_CB_OK;
	const uint8_t *addr = mnl_attr_get_payload(at);
	/* The guest's kernel makes its own link-local address from the MAC. */
	if (ifa->ifa_family == AF_INET6 && addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
		return MNL_CB_OK;
	if (iface->nr_addrs == NET_MAX_ADDRS) {
		d->skipped_addrs++;
		return MNL_CB_OK;
	}
	struct net_addr *out = &iface->addrs[iface->nr_addrs++];
	out->family = ifa->ifa_family;
	out->prefix_len = ifa->ifa_prefixlen;
	memcpy(out->addr, addr, len);
	return MNL_CB_OK;
}

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	struct discovery *d = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct attrs a = { .max = RTA_MAX };
	size_t len = family_len(rtm->rtm_family);
	uint32_t table = rtm->rtm_table;

	/* Routes an address brings (proto kernel) and router advertisements
	 * the guest's kernel makes again itself. */
	if (!len || rtm->rtm_type != RTN_UNICAST || rtm->rtm_protocol == RTPROT_KERNEL ||
	    rtm->rtm_protocol == RTPROT_RA || rtm->rtm_dst_len > len * 8 ||
	    mnl_attr_parse(nlh, sizeof(*rtm), collect_attr, &a) < 0)
		return MNL_CB_OK;
	if (a.tb[RTA_TABLE])
		table = mnl_attr_get_u32(a.tb[RTA_TABLE]);
	if (table != RT_TABLE_MAIN || !a.tb[RTA_OIF])
		return MNL_CB_OK;
	int oif = (int)mnl_attr_get_u32(a.tb[RTA_OIF]);
	if (!find_iface(d->plan, oif))
		return MNL_CB_OK;
	if (d->plan->nr_routes == NET_MAX_ROUTES) {
		d->skipped_routes++;
		return MNL_CB_OK;
	}
	struct net_route r = { .family = rtm->rtm_family, .dst_len = rtm->rtm_dst_len, .ifindex = oif };
	if (a.tb[RTA_DST] && mnl_attr_get_payload_len(a.tb[RTA_DST]) == len)
		memcpy(r.dst, mnl_attr_get_payload(a.tb[RTA_DST]), len);
	if (a.tb[RTA_GATEWAY] && mnl_attr_get_payload_len(a.tb[RTA_GATEWAY]) == len) {
		memcpy(r.gateway, mnl_attr_get_payload(a.tb[RTA_GATEWAY]), len);
		r.has_gateway = true;
	}
	if (a.tb[RTA_PRIORITY])
		r.metric = mnl_attr_get_u32(a.tb[RTA_PRIORITY]);
	d->plan->routes[d->plan->nr_routes++] = r;
	return MNL_CB_OK;
}

int net_discover(struct net_plan *out, novm_error_t *err)
{
	cleanup_rtnl struct rtnl nl = { 0 };
	struct discovery d = { .plan = out };

	memset(out, 0, sizeof(*out));
	if (rtnl_open(&nl, err) < 0 ||
	    rtnl_dump(&nl, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), on_link, &d,
		      "list the network namespace's links", err) < 0 ||
	    rtnl_dump(&nl, RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), on_addr, &d,
		      "list the network namespace's addresses", err) < 0 ||
	    rtnl_dump(&nl, RTM_GETROUTE, AF_UNSPEC, sizeof(struct rtmsg), on_route, &d,
		      "list the network namespace's routes", err) < 0)
		return -1;
	if (d.skipped_addrs || d.skipped_routes)
		log_msg(LOG_LEVEL_WARNING,
			"network: %d addresses and %d routes left out (at most %d addresses a link, %d routes)",
			d.skipped_addrs, d.skipped_routes, NET_MAX_ADDRS, NET_MAX_ROUTES);
	return 0;
}

/* ---- links that come after the guest booted ---- */

#define WATCH_MAX_KNOWN 64

struct link_watch {
	struct mnl_socket *sock;
	int nr_spares;
	int known[WATCH_MAX_KNOWN];
	int nr_known;
};

static bool watch_knows(struct link_watch *w, int ifindex)
{
	for (int i = 0; i < w->nr_known; i++)
		if (w->known[i] == ifindex)
			return true;
	if (w->nr_known < WATCH_MAX_KNOWN)
		w->known[w->nr_known++] = ifindex;
	return false;
}

static int on_new_link(const struct nlmsghdr *nlh, void *data)
{
	struct link_watch *w = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct attrs a = { 0 };

	if (nlh->nlmsg_type != RTM_NEWLINK || !guest_link(nlh, &a) || watch_knows(w, ifi->ifi_index))
		return MNL_CB_OK;
	if (w->nr_spares)
		log_msg(LOG_LEVEL_INFO,
			"network: a link (index %d) appeared in the container's network namespace after "
			"its VM booted: if it is there at start, it takes one of the %d spare NICs",
			ifi->ifi_index, w->nr_spares);
	else
		log_msg(LOG_LEVEL_WARNING,
			"network: a link (index %d) appeared in the container's network namespace after "
			"its VM booted: the guest does not see it", ifi->ifi_index);
	return MNL_CB_OK;
}

static void *watch_links(void *opaque)
{
	struct link_watch *w = opaque;
	char buf[RTNL_BUF_SIZE];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->sock, buf, sizeof(buf));
		if (n < 0 && errno != ENOBUFS)
			break;
		if (n > 0)
			mnl_cb_run(buf, n, 0, 0, on_new_link, w);
	}
	mnl_socket_close(w->sock);
	free(w);
	return NULL;
}

int net_watch_start(const struct net_plan *plan, int nr_spares, novm_error_t *err)
{
	struct link_watch *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return novm_error(err, ENOMEM, "network: watch the namespace's links");
	w->nr_spares = nr_spares;
	for (int i = 0; i < plan->nr_ifaces; i++)
		watch_knows(w, plan->ifaces[i].ifindex);
	w->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!w->sock || mnl_socket_bind(w->sock, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		if (w->sock)
			mnl_socket_close(w->sock);
		free(w);
		return novm_error(err, e, "network: watch the namespace's links");
	}
	ret = thread_start_detached(watch_links, w);
	if (ret != 0) {
		mnl_socket_close(w->sock);
		free(w);
		return novm_error(err, ret, "network: watch the namespace's links");
	}
	return 0;
}
