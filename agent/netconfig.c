#include "netconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "oci/spec.h"

int agent_addr_parse(const char *text, bool want_prefix, struct agent_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	char *end;

	memset(out, 0, sizeof(*out));
	if (len >= INET6_ADDRSTRLEN || (slash != NULL) != want_prefix)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	out->prefix_len = -1;
	if (!want_prefix)
		return 0;
	/* strtol would also take a leading blank or sign ("/ 24", "/-0") */
	if (!isdigit((unsigned char)slash[1]))
		return -1;
	errno = 0;
	long prefix = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || prefix < 0 ||
	    prefix > (out->family == AF_INET ? 32 : 128))
		return -1;
	out->prefix_len = (int)prefix;
	return 0;
}

static int parse_name(const struct json_node *item, const char *key, char *out,
		      novm_error_t *err)
{
	cleanup_free char *name = NULL;
	struct json_node node;

	json_member(item, key, &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &name, err) < 0)
		return -1;
	/* the kernel's dev_valid_name(): blanks too are refused there */
	if (!*name || strlen(name) >= IF_NAMESIZE || strpbrk(name, "/: \t\n\v\f\r") ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return json_error(&node, err, "\"%s\" is not an interface name", name);
	strcpy(out, name);
	return 0;
}

/* "xx:xx:xx:xx:xx:xx", six pairs of hex digits: sscanf's %2hhx alone would
 * take "0g" as 0, a sign or a leading blank. */
static bool parse_mac(const char *text, uint8_t mac[6])
{
	if (strlen(text) != 17)
		return false;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? text[i] != ':' : !isxdigit((unsigned char)text[i]))
			return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)strtoul(text + 3 * i, NULL, 16);
	return true;
}

static int parse_addr_member(const struct json_node *item, const char *key, bool want_prefix,
			     struct agent_addr *out, novm_error_t *err)
{
	cleanup_free char *text = NULL;
	struct json_node node;

	json_member(item, key, &node);
	if (json_get_string(&node, NULL, &text, err) < 0)
		return -1;
	if (text && agent_addr_parse(text, want_prefix, out) < 0)
		return json_error(&node, err, "\"%s\" is not an address%s", text,
				  want_prefix ? " with a prefix length" : "");
	return 0;
}

static int parse_iface(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct agent_iface *f = dst;
	cleanup_free char *mac = NULL;
	struct json_node node, addrs, a;

	if (json_want_object(item, NULL, err) < 0 || parse_name(item, "name", f->name, err) < 0)
		return -1;
	json_member(item, "mac", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &mac, err) < 0)
		return -1;
	if (!parse_mac(mac, f->mac))
		return json_error(&node, err, "\"%s\" is not a MAC address", mac);
	free(mac);
	mac = NULL;
	json_member(item, "device_mac", &node);
	if (json_get_string(&node, NULL, &mac, err) < 0)
		return -1;
	if (mac && !(f->has_device_mac = parse_mac(mac, f->device_mac)))
		return json_error(&node, err, "\"%s\" is not a MAC address", mac);
	if (json_get_u32(item, "mtu", &f->mtu, err) < 0)
		return -1;
	if (f->mtu && (f->mtu < 68 || f->mtu > 65535)) {
		json_member(item, "mtu", &node);
		return json_error(&node, err, "%u is not an MTU", f->mtu);
	}
	json_member(item, "addresses", &addrs);
	if (json_want_array(&addrs, NULL, err) < 0)
		return -1;
	f->n_addrs = json_array_len(&addrs);
	if (f->n_addrs && !(f->addrs = calloc(f->n_addrs, sizeof(*f->addrs))))
		return novm_error(err, ENOMEM, "network");
	for (size_t i = 0; i < f->n_addrs; i++) {
		cleanup_free char *text = NULL;

		json_element(&addrs, i, &a);
		if (json_get_string(&a, NULL, &text, err) < 0)
			return -1;
		if (!text || agent_addr_parse(text, true, &f->addrs[i]) < 0)
			return json_error(&a, err, "\"%s\" is not an address with a prefix length",
					  text ? text : "");
	}
	return 0;
}

static int parse_route(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct agent_route *r = dst;
	struct json_node node;

	if (json_want_object(item, NULL, err) < 0)
		return -1;
	json_member(item, "destination", &node);
	if (json_require(&node, NULL, err) < 0 ||
	    parse_addr_member(item, "destination", true, &r->destination, err) < 0 ||
	    parse_addr_member(item, "gateway", false, &r->gateway, err) < 0 ||
	    parse_name(item, "interface", r->interface, err) < 0 ||
	    json_get_u32(item, "metric", &r->metric, err) < 0)
		return -1;
	if (r->gateway.family && r->gateway.family != r->destination.family) {
		json_member(item, "gateway", &node);
		return json_error(&node, err, "not of the destination's address family");
	}
	return 0;
}

/* The relay listens at a loopback address of the guest, where the
 * container's resolv.conf points. */
static int parse_dns_relay(const struct json_node *network, char **out, novm_error_t *err)
{
	struct agent_addr addr;
	struct json_node node;

	json_member(network, "dns_relay", &node);
	if (json_get_string(&node, NULL, out, err) < 0)
		return -1;
	if (*out && (agent_addr_parse(*out, false, &addr) < 0 || addr.family != AF_INET ||
		     addr.addr[0] != 127))
		return json_error(&node, err, "\"%s\" is not an IPv4 loopback address", *out);
	return 0;
}

int agent_network_parse(const struct json_node *node, struct agent_network *out,
			novm_error_t *err)
{
	memset(out, 0, sizeof(*out));
	if (json_want_object(node, NULL, err) < 0 ||
	    oci_parse_object_array(node, "interfaces", sizeof(*out->ifaces), (void **)&out->ifaces,
				   &out->n_ifaces, parse_iface, err) < 0 ||
	    oci_parse_object_array(node, "routes", sizeof(*out->routes), (void **)&out->routes,
				   &out->n_routes, parse_route, err) < 0 ||
	    parse_dns_relay(node, &out->dns_relay, err) < 0) {
		agent_network_release(out);
		return -1;
	}
	return 0;
}

int agent_network_parse_text(const char *text, size_t len, struct agent_network *out,
			     novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root;

	memset(out, 0, sizeof(*out));
	if (json_doc_parse("NETWORK", text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (!json_present(&root))
		return json_error(&root, err, "expected an object");
	return agent_network_parse(&root, out, err);
}

void agent_network_release(struct agent_network *net)
{
	for (size_t i = 0; net->ifaces && i < net->n_ifaces; i++)
		free(net->ifaces[i].addrs);
	free(net->ifaces);
	free(net->routes);
	free(net->dns_relay);
	memset(net, 0, sizeof(*net));
}
