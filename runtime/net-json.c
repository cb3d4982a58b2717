/* The guest's network as the agent reads it (agent/netconfig.c). */
#include "netconf.h"

#include <arpa/inet.h>

#include "jsonstr.h"

static void write_addr(FILE *out, int family, const uint8_t *addr, int prefix_len)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	if (prefix_len >= 0)
		fprintf(out, "\"%s/%d\"", text, prefix_len);
	else
		fprintf(out, "\"%s\"", text);
}

const struct net_iface *net_plan_iface(const struct net_plan *plan, int ifindex)
{
	for (int i = 0; i < plan->nr_ifaces; i++)
		if (plan->ifaces[i].ifindex == ifindex)
			return &plan->ifaces[i];
	return NULL;
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
		fprintf(out, ",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"mtu\":%u,\"addresses\":[",
			f->mac[0], f->mac[1], f->mac[2], f->mac[3], f->mac[4], f->mac[5], f->mtu);
		for (int j = 0; j < f->nr_addrs; j++) {
			if (j)
				fputc(',', out);
			write_addr(out, f->addrs[j].family, f->addrs[j].addr, f->addrs[j].prefix_len);
		}
		fputs("]}", out);
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
