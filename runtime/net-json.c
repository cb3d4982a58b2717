/* The guest's network as the agent reads it (agent/netconfig.c), and the
 * plan's pure helpers. */
#include "netconf.h"

#include <arpa/inet.h>
#include <string.h>

#include "jsonstr.h"
#include "log.h"

static void write_addr(FILE *out, int family, const uint8_t *addr, int prefix_len)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	if (prefix_len >= 0)
		fprintf(out, "\"%s/%d\"", text, prefix_len);
	else
		fprintf(out, "\"%s\"", text);
}

static void write_mac(FILE *out, const char *key, const uint8_t mac[6])
{
	fprintf(out, ",\"%s\":\"%02x:%02x:%02x:%02x:%02x:%02x\"", key, mac[0], mac[1], mac[2],
		mac[3], mac[4], mac[5]);
}

const struct net_iface *net_plan_iface(const struct net_plan *plan, int ifindex)
{
	for (int i = 0; i < plan->nr_ifaces; i++)
		if (plan->ifaces[i].ifindex == ifindex)
			return &plan->ifaces[i];
	return NULL;
}

void net_spare_mac(int i, uint8_t mac[6])
{
	/* Locally administered unicast, "novm" and the spare's number. */
	const uint8_t base[6] = { 0x02, 'n', 'o', 'v', 'm', 0 };

	memcpy(mac, base, sizeof(base));
	mac[5] = (uint8_t)i;
}

void net_plan_for_spares(struct net_plan *plan, int nr_spares)
{
	int kept = 0;

	for (int i = 0; i < plan->nr_ifaces; i++) {
		if (i >= nr_spares) {
			log_msg(LOG_LEVEL_WARNING,
				"network: link %s left out: it came after create and the VM has %d spare "
				"NICs", plan->ifaces[i].name, nr_spares);
			continue;
		}
		plan->ifaces[i].spare = i + 1;
		kept++;
	}
	plan->nr_ifaces = kept;
	/* Routes through a link left out go with it. */
	int nr_routes = 0;
	for (int i = 0; i < plan->nr_routes; i++)
		if (net_plan_iface(plan, plan->routes[i].ifindex))
			plan->routes[nr_routes++] = plan->routes[i];
	plan->nr_routes = nr_routes;
}

static const char *iface_name(const struct net_plan *plan, int ifindex)
{
	const struct net_iface *iface = net_plan_iface(plan, ifindex);

	return iface ? iface->name : "";
}

void net_plan_json(const struct net_plan *plan, const char *dns_relay, FILE *out)
{
	fputs("{\"interfaces\":[", out);
	for (int i = 0; i < plan->nr_ifaces; i++) {
		const struct net_iface *f = &plan->ifaces[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		json_write_string(out, f->name);
		write_mac(out, "mac", f->mac);
		fprintf(out, ",\"mtu\":%u,\"addresses\":[", f->mtu);
		for (int j = 0; j < f->nr_addrs; j++) {
			if (j)
				fputc(',', out);
			write_addr(out, f->addrs[j].family, f->addrs[j].addr, f->addrs[j].prefix_len);
		}
		fputc(']', out);
		if (f->spare) {
			uint8_t mac[6];

			net_spare_mac(f->spare - 1, mac);
			write_mac(out, "device_mac", mac);
		}
		fputc('}', out);
	}
	fputs("],\"routes\":[", out);
	for (int i = 0; i < plan->nr_routes; i++) {
		const struct net_route *r = &plan->routes[i];

		fputs(i ? ",{\"destination\":" : "{\"destination\":", out);
		write_addr(out, r->family, r->dst, r->dst_len);
		if (r->has_gateway) {
			fputs(",\"gateway\":", out);
			write_addr(out, r->family, r->gateway, -1);
		}
		fputs(",\"interface\":", out);
		json_write_string(out, iface_name(plan, r->ifindex));
		fprintf(out, ",\"metric\":%u}", r->metric);
	}
	fputc(']', out);
	if (dns_relay) {
		fputs(",\"dns_relay\":", out);
		json_write_string(out, dns_relay);
	}
	fputc('}', out);
}
