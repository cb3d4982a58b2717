/* The guest's network as the host found it in the container's network
 * namespace (runtime/netconf.h): each NIC is matched by MAC and given the
 * link's name, MTU and addresses; then the routes.  Parsing is pure and
 * unit-tested; applying uses the kernel's interface and route ioctls (the
 * agent links statically, and Debian ships no static libmnl). */
#ifndef NOVM_AGENT_NETCONFIG_H
#define NOVM_AGENT_NETCONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "oci/json.h"

/* More than the VMM can give (runtime/netconf.h's NET_MAX_IFACES). */
#define AGENT_MAX_IFACES 16

struct agent_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix_len;		/* -1: a plain address (a gateway) */
};

struct agent_iface {
	char name[IF_NAMESIZE];
	uint8_t mac[6];
	/* PROTO_NETWORK: the NIC is the one with device_mac (a spare, whose
	 * MAC was fixed at boot) and takes mac. */
	uint8_t device_mac[6];
	bool has_device_mac;
	unsigned int mtu;	/* 0: leave the NIC's */
	struct agent_addr *addrs;
	size_t n_addrs;
};

struct agent_route {
	struct agent_addr destination;
	struct agent_addr gateway;	/* family 0: none */
	char interface[IF_NAMESIZE];
	uint32_t metric;
};

struct agent_network {
	struct agent_iface *ifaces;
	size_t n_ifaces;
	struct agent_route *routes;
	size_t n_routes;
	char *dns_relay;	/* IPv4 address the DNS relay listens at, or NULL */
};

/* Parses the "network" member of the host's configuration (absent: no
 * NICs).  Errors name the field. */
int agent_network_parse(const struct json_node *node, struct agent_network *out,
			novm_error_t *err);
void agent_network_release(struct agent_network *net);
/* The same from PROTO_NETWORK's payload, whose root is that object. */
int agent_network_parse_text(const char *text, size_t len, struct agent_network *out,
			     novm_error_t *err);

/* Parses "a.b.c.d/len", "x::y/len" or, with want_prefix false, a bare
 * address. */
int agent_addr_parse(const char *text, bool want_prefix, struct agent_addr *out);

/* Configures the guest's NICs and routes, in the guest's (the agent's)
 * network namespace, which the container shares.  A NIC found by
 * device_mac must be down (a spare nobody configured yet). */
int agent_network_apply(const struct agent_network *net, novm_error_t *err);

#endif
