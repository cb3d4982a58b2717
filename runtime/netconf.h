/* The guest's network, taken from the container's network namespace.
 *
 * A client (Docker's libnetwork, a CNI plugin, a test with `ip netns`)
 * prepares the namespace the VMM lives in: veth or other Ethernet links with
 * addresses and routes.  The VMM reads them once the create hooks have run
 * (net_discover), connects each link to a tap of its own with tc mirred
 * redirects both ways (net_connect: the link's traffic now flows through
 * the guest's NIC, the namespace's own stack no longer sees it), and the
 * agent gives the guest's NIC of the same MAC the link's name, MTU,
 * addresses and routes (net_plan_json is what it is sent). */
#ifndef NOVM_RUNTIME_NETCONF_H
#define NOVM_RUNTIME_NETCONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

/* The VM's NIC slots; the rest of a namespace's links get a warning. */
#define NET_MAX_IFACES 4
#define NET_MAX_ADDRS 16
#define NET_MAX_ROUTES 32

struct net_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix_len;
};

struct net_iface {
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t mac[6];
	unsigned int mtu;
	struct net_addr addrs[NET_MAX_ADDRS];
	int nr_addrs;
};

/* A route the guest must be told: not the ones an address brings with it
 * (the guest's kernel makes those), only what a client added. */
struct net_route {
	int family;
	uint8_t dst[16];
	uint8_t dst_len;	/* 0: default route */
	uint8_t gateway[16];
	bool has_gateway;
	int ifindex;		/* one of the plan's interfaces */
	uint32_t metric;
};

struct net_plan {
	struct net_iface ifaces[NET_MAX_IFACES];
	int nr_ifaces;
	struct net_route routes[NET_MAX_ROUTES];
	int nr_routes;
};

/* The plan's interface of that index, or NULL. */
const struct net_iface *net_plan_iface(const struct net_plan *plan, int ifindex);

/* Reads the Ethernet links of the current network namespace (all but
 * loopback and our own taps), their addresses and the main table's routes
 * through them.  What does not fit the plan is left out with a warning in
 * the log. */
int net_discover(struct net_plan *out, novm_error_t *err);

/* From now on, an Ethernet link that appears in the namespace (other than
 * the plan's) is a warning in the log: the guest cannot get it. */
int net_watch_start(const struct net_plan *plan, novm_error_t *err);

/* Connects link `iface` to a new tap (named after it) that goes away with
 * the returned fd: ingress qdiscs on both and a matchall filter with a
 * mirred redirect each way.  The tap is opened as tuntap.h's taps are. */
int net_connect(const struct net_iface *iface, int *tap_fd, novm_error_t *err);

/* A namespace given by path outlives the VMM, and with it our ingress
 * qdiscs on its links, which would drop their traffic for a tap that is
 * gone.  net_record writes which links of which namespace the VMM joined
 * to the guest into state directory `dir`; net_release, after the VMM is
 * gone (delete), takes the ingress qdiscs off them again. */
int net_record(const char *dir, const char *netns_path, const struct net_plan *plan,
	       novm_error_t *err);
void net_release(const char *dir);

/* The agent's "network" member: {"interfaces":[{"name","mac","mtu",
 * "addresses":["a/len",...]}],"routes":[{"destination":"a/len",
 * "gateway":"a","interface":"name","metric":n}],"dns_relay":"a"};
 * dns_relay NULL: none. */
void net_plan_json(const struct net_plan *plan, const char *dns_relay, FILE *out);

#endif
