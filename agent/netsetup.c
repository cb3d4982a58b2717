/* Applies the guest's network (netconfig.h) with interface and route
 * ioctls. */
#include "netconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

/* The kernel's struct in6_ifreq (linux/ipv6.h, which clashes with libc's
 * netinet/in.h): SIOCSIFADDR's argument on an AF_INET6 socket. */
struct agent_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefix_len;
	int ifindex;
};

static void ifreq_for(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
}

/* The guest NIC with that MAC, by name, or "" */
static void find_by_mac(int sock, const uint8_t mac[6], char name[IF_NAMESIZE])
{
	struct if_nameindex *all = if_nameindex();

	name[0] = '\0';
	for (struct if_nameindex *i = all; i && i->if_index; i++) {
		struct ifreq ifr;

		ifreq_for(&ifr, i->if_name);
		if (ioctl(sock, SIOCGIFHWADDR, &ifr) == 0 && !memcmp(ifr.ifr_hwaddr.sa_data, mac, 6)) {
			snprintf(name, IF_NAMESIZE, "%s", i->if_name);
			break;
		}
	}
	if (all)
		if_freenameindex(all);
}

static bool is_up(int sock, const char *name)
{
	struct ifreq ifr;

	ifreq_for(&ifr, name);
	return ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags & IFF_UP);
}

static int set_name(int sock, const char *from, const char *to, novm_error_t *err)
{
	struct ifreq ifr;

	if (!strcmp(from, to))
		return 0;
	ifreq_for(&ifr, from);
	snprintf(ifr.ifr_newname, sizeof(ifr.ifr_newname), "%s", to);
	if (ioctl(sock, SIOCSIFNAME, &ifr) < 0)
		return novm_error(err, errno, "network: rename %s to %s", from, to);
	return 0;
}

static void mask_of(int prefix_len, struct sockaddr_in *sin)
{
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(prefix_len ? ~0U << (32 - prefix_len) : 0);
}

static int add_addr(int sock4, int sock6, const char *name, int index, const struct agent_addr *a,
		    unsigned int nr_v4, novm_error_t *err)
{
	char text[INET6_ADDRSTRLEN];
	struct ifreq ifr;

	inet_ntop(a->family, a->addr, text, sizeof(text));
	if (a->family == AF_INET6) {
		struct agent_in6_ifreq req = { .prefix_len = (uint32_t)a->prefix_len, .ifindex = index };
		memcpy(&req.addr, a->addr, 16);
		if (ioctl(sock6, SIOCSIFADDR, &req) < 0 && errno != EEXIST)
			return novm_error(err, errno, "network: add %s/%d to %s", text, a->prefix_len, name);
		return 0;
	}
	/* Each IPv4 address after the first is an alias "name:N". */
	char label[32];
	if (nr_v4)
		snprintf(label, sizeof(label), "%s:%u", name, nr_v4);
	else
		snprintf(label, sizeof(label), "%s", name);
	if (strlen(label) >= IF_NAMESIZE)
		return novm_error(err, ENAMETOOLONG, "network: no alias name left for %s on %s", text, name);
	ifreq_for(&ifr, label);
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, a->addr, 4);
	if (ioctl(sock4, SIOCSIFADDR, &ifr) < 0)
		return novm_error(err, errno, "network: add %s to %s", text, name);
	ifreq_for(&ifr, label);
	mask_of(a->prefix_len, (struct sockaddr_in *)&ifr.ifr_netmask);
	if (ioctl(sock4, SIOCSIFNETMASK, &ifr) < 0)
		return novm_error(err, errno, "network: set the prefix of %s/%d on %s", text,
				  a->prefix_len, name);
	return 0;
}

/* A spare's MAC was fixed at boot: it takes the link's now, while down. */
static int set_mac(int sock, const char *name, const uint8_t mac[6], novm_error_t *err)
{
	struct ifreq ifr;

	ifreq_for(&ifr, name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0)
		return novm_error(err, errno, "network: set the MAC address of %s", name);
	return 0;
}

static int setup_iface(int sock4, int sock6, const struct agent_iface *f, const char *current,
		       novm_error_t *err)
{
	struct ifreq ifr;
	unsigned int nr_v4 = 0;
	int index;

	if (set_name(sock4, current, f->name, err) < 0 ||
	    (f->has_device_mac && set_mac(sock4, f->name, f->mac, err) < 0))
		return -1;
	if (f->mtu) {
		ifreq_for(&ifr, f->name);
		ifr.ifr_mtu = (int)f->mtu;
		if (ioctl(sock4, SIOCSIFMTU, &ifr) < 0)
			return novm_error(err, errno, "network: set the MTU of %s to %u", f->name, f->mtu);
	}
	ifreq_for(&ifr, f->name);
	if (ioctl(sock4, SIOCGIFFLAGS, &ifr) < 0)
		return novm_error(err, errno, "network: read the flags of %s", f->name);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock4, SIOCSIFFLAGS, &ifr) < 0)
		return novm_error(err, errno, "network: bring %s up", f->name);
	index = (int)if_nametoindex(f->name);
	for (size_t i = 0; i < f->n_addrs; i++) {
		if (add_addr(sock4, sock6, f->name, index, &f->addrs[i], nr_v4, err) < 0)
			return -1;
		nr_v4 += f->addrs[i].family == AF_INET;
	}
	return 0;
}

static int add_route(int sock4, int sock6, const struct agent_route *r, novm_error_t *err)
{
	const struct agent_addr *d = &r->destination;
	char text[INET6_ADDRSTRLEN];
	int ret;

	inet_ntop(d->family, d->addr, text, sizeof(text));
	if (d->family == AF_INET6) {
		struct in6_rtmsg rt = {
			.rtmsg_dst_len = (unsigned short)d->prefix_len,
			.rtmsg_metric = r->metric ? r->metric : 1024,
			.rtmsg_flags = RTF_UP | (r->gateway.family ? RTF_GATEWAY : 0) |
				       (d->prefix_len == 128 ? RTF_HOST : 0),
			.rtmsg_ifindex = (int)if_nametoindex(r->interface),
		};
		memcpy(&rt.rtmsg_dst, d->addr, 16);
		if (r->gateway.family)
			memcpy(&rt.rtmsg_gateway, r->gateway.addr, 16);
		ret = ioctl(sock6, SIOCADDRT, &rt);
	} else {
		struct rtentry rt = { 0 };
		char dev[IF_NAMESIZE];
		struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;

		snprintf(dev, sizeof(dev), "%s", r->interface);
		dst->sin_family = AF_INET;
		memcpy(&dst->sin_addr, d->addr, 4);
		mask_of(d->prefix_len, (struct sockaddr_in *)&rt.rt_genmask);
		if (r->gateway.family) {
			struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
			gw->sin_family = AF_INET;
			memcpy(&gw->sin_addr, r->gateway.addr, 4);
		}
		rt.rt_flags = RTF_UP | (r->gateway.family ? RTF_GATEWAY : 0) |
			      (d->prefix_len == 32 ? RTF_HOST : 0);
		/* The ioctl counts metrics from 1 (0 means the default). */
		rt.rt_metric = (short)(r->metric + 1);
		rt.rt_dev = dev;
		ret = ioctl(sock4, SIOCADDRT, &rt);
	}
	if (ret < 0 && errno != EEXIST)
		return novm_error(err, errno, "network: add the route to %s/%d on %s", text,
				  d->prefix_len, r->interface);
	return 0;
}

int agent_network_apply(const struct agent_network *net, novm_error_t *err)
{
	cleanup_close int sock4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cleanup_close int sock6 = -1;
	char found[IF_NAMESIZE];

	if (!net->n_ifaces)
		return 0;
	if (net->n_ifaces > AGENT_MAX_IFACES)
		return novm_error(err, E2BIG, "network: %zu interfaces, at most %d", net->n_ifaces,
				  AGENT_MAX_IFACES);
	if (sock4 < 0)
		return novm_error(err, errno, "network: socket");
	sock6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* Temporary names first: the names asked for may be the NICs' own in
	 * another order. */
	for (size_t i = 0; i < net->n_ifaces; i++) {
		char tmp[32];

		const struct agent_iface *f = &net->ifaces[i];

		find_by_mac(sock4, f->has_device_mac ? f->device_mac : f->mac, found);
		if (!found[0])
			return novm_error(err, ENODEV, "network: no NIC with the MAC of %s", f->name);
		if (f->has_device_mac && is_up(sock4, found))
			return novm_error(err, EBUSY, "network: the spare NIC for %s is in use", f->name);
		snprintf(tmp, sizeof(tmp), "novmnic%zu", i);
		if (set_name(sock4, found, tmp, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < net->n_ifaces; i++) {
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "novmnic%zu", i);
		if (setup_iface(sock4, sock6, &net->ifaces[i], tmp, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < net->n_routes; i++)
		if (add_route(sock4, sock6, &net->routes[i], err) < 0)
			return -1;
	return 0;
}
