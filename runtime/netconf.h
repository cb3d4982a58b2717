/* The guest's network, taken from the container's network namespace.
 *
 * A client (Docker's libnetwork, a CNI plugin, a test with `ip netns`)
 * prepares the namespace the VMM lives in: veth or other Ethernet links with
 * addresses and routes.  The VMM reads them once the create hooks have run
 * (net_discover), connects each link to a tap of its own with tc mirred
 * redirects both ways (net_connect: the link's traffic now flows through
 * the guest's NIC, the namespace's own stack no longer sees it), and the
 * agent gives the guest's NIC of the same MAC the link's name, MTU,
 * addresses and routes (net_plan_json is what it is sent).
 *
 * Some clients (containerd's `ctr run --cni`) set the namespace up only
 * between create and start, in the namespace the VMM made itself.  So a VM
 * whose new namespace had no link at create boots with NET_SPARE_NICS spare
 * NICs (link down, no backend); at start, net_start_links takes the links
 * that came meanwhile, connects each to a tap as above, and the VMM gives
 * them the spares, which the agent configures before the process runs. */
#ifndef NOVM_RUNTIME_NETCONF_H
#define NOVM_RUNTIME_NETCONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* The VM's NIC slots; the rest of a namespace's links get a warning. */
#define NET_MAX_IFACES 4
#define NET_MAX_ADDRS 16
#define NET_MAX_ROUTES 32
#define NET_SPARE_NICS 1
_Static_assert(NET_SPARE_NICS <= NET_MAX_IFACES, "spares are NICs");

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
	int spare;		/* 1 + the spare NIC it goes to; 0: a NIC of its own */
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
 * the plan's) is a warning in the log: the guest cannot get it; with
 * spares, a note that it can if it is there at start. */
int net_watch_start(const struct net_plan *plan, int nr_spares, novm_error_t *err);

/* ---- links added between create and start (net-late.c; the pure
 * parts in net-json.c) ---- */

/* The MAC spare NIC i has in the guest until the agent gives it its
 * link's: locally administered, the same in every VM (no frame leaves with
 * it: the link is down until then). */
void net_spare_mac(int i, uint8_t mac[6]);

/* Fits start's plan to the spares: the first nr_spares links go to spares
 * 0, 1...; the rest (and their routes) are left out with a warning. */
void net_plan_for_spares(struct net_plan *plan, int nr_spares);

/* create: the VM in state directory `dir` has nr_spares spare NICs. */
int net_record_spares(const char *dir, int nr_spares, novm_error_t *err);

/* start, before the process runs: in the network namespace of the VMM
 * `vmm_pid` (started at start_time; a child of ours joins it, never our
 * own), the links that came since create become the guest's NICs through
 * the control socket's `nics` request.  Nothing to do for a VM without
 * spares.  On failure the links are the namespace's again (no ingress
 * redirect left on them). */
int net_start_links(const char *dir, pid_t vmm_pid, uint64_t start_time, novm_error_t *err);

/* Connects link `iface` to a new tap (named after it) that goes away with
 * the returned fd: ingress qdiscs on both and a matchall filter with a
 * mirred redirect each way.  The tap is opened as tuntap.h's taps are. */
int net_connect(const struct net_iface *iface, int *tap_fd, novm_error_t *err);
/* Undoes net_connect on the link (its tap goes with its fd). */
void net_disconnect(const struct net_iface *iface);

/* A namespace given by path outlives the VMM, and with it our ingress
 * qdiscs on its links, which would drop their traffic for a tap that is
 * gone.  net_record writes which links of which namespace the VMM joined
 * to the guest into state directory `dir`; net_release, after the VMM is
 * gone (delete), takes the ingress qdiscs off them again. */
int net_record(const char *dir, const char *netns_path, const struct net_plan *plan,
	       novm_error_t *err);
void net_release(const char *dir);

/* The agent's "network" member: {"interfaces":[{"name","mac","mtu",
 * "addresses":["a/len",...][,"device_mac": a spare's]}],"routes":[{"destination":"a/len",
 * "gateway":"a","interface":"name","metric":n}],"dns_relay":"a"};
 * dns_relay NULL: none. */
void net_plan_json(const struct net_plan *plan, const char *dns_relay, FILE *out);

#endif
