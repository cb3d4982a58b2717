/* The guest's network on its way from the host to the agent: what
 * runtime/net-json.c writes must come back field for field from
 * agent/netconfig.c's parser (inside agent_config_parse, as the agent reads
 * it), and what a hostile or broken host could send is refused with an
 * error naming the field and the value. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "agent/hostconfig.h"
#include "agent/netconfig.h"
#include "cleanup.h"
#include "oci/json.h"
#include "runtime/netconf.h"

/* The least config.json agent_config_parse takes. */
#define MIN_CONFIG "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}"

static bool err_has(novm_error_t err, const char *part)
{
	return err && err->msg && strstr(err->msg, part);
}

/* The message for a TAP line: a name with a newline in it must not end
 * the line early. */
static const char *err_msg(novm_error_t err)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s", err && err->msg ? err->msg : "(no error)");
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = '?';
	return buf;
}

static void pton(int family, const char *text, uint8_t *out)
{
	if (inet_pton(family, text, out) != 1)
		abort();
}

/* {"config": MIN_CONFIG, "network": <network>} (network NULL: absent),
 * parsed as the agent does.  Returns agent_config_parse's result. */
static int parse_with_network(const char *network, struct agent_config *cfg, novm_error_t *err)
{
	cleanup_free char *text = NULL;
	int n;

	if (network)
		n = asprintf(&text, "{\"config\": %s, \"network\": %s}", MIN_CONFIG, network);
	else
		n = asprintf(&text, "{\"config\": %s}", MIN_CONFIG);
	if (n < 0)
		abort();
	return agent_config_parse(text, (size_t)n, cfg, err);
}

/* net_plan_json's output as a heap string. */
static char *plan_text(const struct net_plan *plan)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	net_plan_json(plan, NULL, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

static bool addr_eq(const struct agent_addr *a, int family, const uint8_t *addr, int prefix_len)
{
	return a->family == family && a->prefix_len == prefix_len &&
	       memcmp(a->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

/* ---- round trip ---- */

static void build_plan(struct net_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->nr_ifaces = 2;

	struct net_iface *e = &p->ifaces[0];
	e->ifindex = 7;
	strcpy(e->name, "eth0");
	memcpy(e->mac, (uint8_t[]){ 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 }, 6);
	e->mtu = 1500;
	e->nr_addrs = 2;
	e->addrs[0] = (struct net_addr){ .family = AF_INET, .prefix_len = 16 };
	pton(AF_INET, "172.17.0.2", e->addrs[0].addr);
	e->addrs[1] = (struct net_addr){ .family = AF_INET6, .prefix_len = 64 };
	pton(AF_INET6, "fd00:1::2", e->addrs[1].addr);

	/* a name at the limit (15) and a MAC with every nibble a letter */
	struct net_iface *w = &p->ifaces[1];
	w->ifindex = 12;
	strcpy(w->name, "wan-0123456789a");
	memcpy(w->mac, (uint8_t[]){ 0xfe, 0xdc, 0xba, 0xab, 0xcd, 0xef }, 6);
	w->mtu = 9000;
	w->nr_addrs = 1;
	w->addrs[0] = (struct net_addr){ .family = AF_INET, .prefix_len = 32 };
	pton(AF_INET, "192.0.2.9", w->addrs[0].addr);

	p->nr_routes = 3;
	struct net_route *r = &p->routes[0];
	/* the default route: dst_len 0, gateway, through eth0 */
	r->family = AF_INET;
	r->has_gateway = true;
	pton(AF_INET, "172.17.0.1", r->gateway);
	r->ifindex = 7;
	r->metric = 100;

	r = &p->routes[1];
	r->family = AF_INET6;
	pton(AF_INET6, "2001:db8:aa::", r->dst);
	r->dst_len = 48;
	r->has_gateway = true;
	pton(AF_INET6, "fe80::1", r->gateway);
	r->ifindex = 7;
	r->metric = 4294967295u;	/* the largest metric survives */

	/* on-link: no gateway */
	r = &p->routes[2];
	r->family = AF_INET;
	pton(AF_INET, "198.51.100.0", r->dst);
	r->dst_len = 24;
	r->ifindex = 12;
}

static void check_iface(const struct agent_iface *got, const struct net_iface *want, int i)
{
	bool addrs_ok = got->n_addrs == (size_t)want->nr_addrs;

	for (size_t j = 0; addrs_ok && j < got->n_addrs; j++)
		addrs_ok = addr_eq(&got->addrs[j], want->addrs[j].family, want->addrs[j].addr,
				   want->addrs[j].prefix_len);
	ok(strcmp(got->name, want->name) == 0, "iface %d: name \"%s\"", i, got->name);
	ok(memcmp(got->mac, want->mac, 6) == 0, "iface %d: MAC", i);
	ok(got->mtu == want->mtu, "iface %d: MTU %u", i, got->mtu);
	ok(addrs_ok, "iface %d: %zu addresses with families and prefix lengths", i, got->n_addrs);
}

static void check_route(const struct agent_route *got, const struct net_plan *p, int i)
{
	const struct net_route *want = &p->routes[i];
	const char *dev = NULL;

	for (int k = 0; k < p->nr_ifaces; k++)
		if (p->ifaces[k].ifindex == want->ifindex)
			dev = p->ifaces[k].name;
	ok(addr_eq(&got->destination, want->family, want->dst, want->dst_len),
	   "route %d: destination and its prefix length", i);
	if (want->has_gateway)
		ok(addr_eq(&got->gateway, want->family, want->gateway, -1),
		   "route %d: gateway, a plain address", i);
	else
		ok(got->gateway.family == 0, "route %d: no gateway", i);
	ok(dev && strcmp(got->interface, dev) == 0, "route %d: interface \"%s\"", i,
	   got->interface);
	ok(got->metric == want->metric, "route %d: metric %u", i, got->metric);
}

static void test_round_trip(void)
{
	struct net_plan plan;
	struct agent_config cfg;
	novm_error_t err = NULL;

	build_plan(&plan);
	cleanup_free char *json = plan_text(&plan);
	int r = parse_with_network(json, &cfg, &err);

	ok(r == 0, "net_plan_json's output parses as CONFIG's network: %s", err_msg(err));
	if (r < 0) {
		printf("# %s\n", json);
		novm_error_release(&err);
		return;
	}
	ok(cfg.network.n_ifaces == 2 && cfg.network.n_routes == 3, "2 interfaces, 3 routes");
	for (int i = 0; i < 2 && (size_t)i < cfg.network.n_ifaces; i++)
		check_iface(&cfg.network.ifaces[i], &plan.ifaces[i], i);
	for (int i = 0; i < 3 && (size_t)i < cfg.network.n_routes; i++)
		check_route(&cfg.network.routes[i], &plan, i);
	agent_config_release(&cfg);

	/* the same text read with agent_network_parse alone */
	cleanup_json_doc struct json_doc *doc = NULL;
	struct agent_network net;
	struct json_node root;

	r = json_doc_parse("NET", json, strlen(json), &doc, &err);
	if (r == 0) {
		json_doc_root(doc, &root);
		r = agent_network_parse(&root, &net, &err);
	}
	ok(r == 0 && net.n_ifaces == 2 && net.ifaces[1].n_addrs == 1 &&
	   net.routes[2].gateway.family == 0, "agent_network_parse on the bare member: %s",
	   err_msg(err));
	if (r == 0)
		agent_network_release(&net);
	novm_error_release(&err);
}

/* Names the kernel allows ('"', '\\', '.' inside) are escaped by the writer
 * and come back the same; an empty plan is empty lists. */
static void test_writer_edges(void)
{
	struct net_plan plan = { 0 };
	struct agent_config cfg;
	novm_error_t err = NULL;
	cleanup_free char *empty = plan_text(&plan);

	ok(strcmp(empty, "{\"interfaces\":[],\"routes\":[]}") == 0, "empty plan: %s", empty);
	ok(parse_with_network(empty, &cfg, &err) == 0 && cfg.network.n_ifaces == 0 &&
	   cfg.network.n_routes == 0, "empty plan parses to nothing: %s", err_msg(err));
	agent_config_release(&cfg);
	novm_error_release(&err);

	plan.nr_ifaces = 1;
	plan.ifaces[0].ifindex = 3;
	strcpy(plan.ifaces[0].name, "q\"b\\s.x");
	plan.nr_routes = 1;
	plan.routes[0].family = AF_INET6;
	plan.routes[0].ifindex = 3;
	cleanup_free char *odd = plan_text(&plan);
	int r = parse_with_network(odd, &cfg, &err);

	ok(r == 0 && strcmp(cfg.network.ifaces[0].name, "q\"b\\s.x") == 0 &&
	   cfg.network.ifaces[0].mtu == 0 && cfg.network.ifaces[0].n_addrs == 0 &&
	   strcmp(cfg.network.routes[0].interface, "q\"b\\s.x") == 0 &&
	   cfg.network.routes[0].destination.family == AF_INET6 &&
	   cfg.network.routes[0].destination.prefix_len == 0,
	   "quote and backslash in a name round-trip, MTU 0 kept, \"::/0\" read: %s",
	   err_msg(err));
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);
}

/* ---- refused input ---- */

#define IFACE(fields) "{\"interfaces\": [{\"name\": \"eth0\", \"mac\": \"02:00:00:00:00:01\"" fields "}]}"
#define ROUTE(fields) "{\"interfaces\": [], \"routes\": [{" fields "}]}"

static void test_bad(void)
{
	static const struct {
		const char *network, *want_path, *want_value;
	} bad[] = {
		/* the DNS relay listens at a loopback address of the guest */
		{ "{\"dns_relay\": \"10.0.0.1\"}", "network.dns_relay", "\"10.0.0.1\"" },
		{ "{\"dns_relay\": \"::1\"}", "network.dns_relay", "not an IPv4 loopback address" },
		{ "{\"dns_relay\": \"127.0.0.11/8\"}", "network.dns_relay", "\"127.0.0.11/8\"" },
		{ "{\"dns_relay\": 5}", "network.dns_relay", "" },
		/* MACs that are not six pairs of hex digits */
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"02:00:00:00:00\"}]}",
		  "network.interfaces[0].mac", "\"02:00:00:00:00\"" },
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"02:00:00:00:00:0g\"}]}",
		  "network.interfaces[0].mac", "\"02:00:00:00:00:0g\"" },
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"02:00:00:00:00:001\"}]}",
		  "network.interfaces[0].mac", "\"02:00:00:00:00:001\"" },
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"2:0:0:0:0:1:2:3:4:5\"}]}",
		  "network.interfaces[0].mac", "is not a MAC address" },
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"02-00-00-00-00-01\"}]}",
		  "network.interfaces[0].mac", "\"02-00-00-00-00-01\"" },
		/* sscanf's %x takes a sign and skips blanks: 17 characters, no hex pairs */
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"+1:+2:+3:+4:+5:+6\"}]}",
		  "network.interfaces[0].mac", "\"+1:+2:+3:+4:+5:+6\"" },
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"-1:-1:-1:-1:-1:-1\"}]}",
		  "network.interfaces[0].mac", "\"-1:-1:-1:-1:-1:-1\"" },
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \" 1: 2: 3: 4: 5: 6\"}]}",
		  "network.interfaces[0].mac", "\" 1: 2: 3: 4: 5: 6\"" },
		{ "{\"interfaces\": [{\"name\": \"e\"}]}", "network.interfaces[0].mac", "missing" },
		/* the spare a NIC goes to, by its MAC */
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"02:00:00:00:00:01\", \"device_mac\": \"02:00\"}]}",
		  "network.interfaces[0].device_mac", "\"02:00\" is not a MAC address" },
		{ "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"02:00:00:00:00:01\", \"device_mac\": 5}]}",
		  "network.interfaces[0].device_mac", "expected a string" },
		/* interface names the kernel refuses */
		{ "{\"interfaces\": [{\"name\": \"0123456789abcdef\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "\"0123456789abcdef\" is not an interface name" },
		{ "{\"interfaces\": [{\"name\": \"a/b\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "\"a/b\"" },
		{ "{\"interfaces\": [{\"name\": \"eth0:1\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "\"eth0:1\"" },
		{ "{\"interfaces\": [{\"name\": \".\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "\".\"" },
		{ "{\"interfaces\": [{\"name\": \"..\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "\"..\"" },
		{ "{\"interfaces\": [{\"name\": \"\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "\"\" is not an interface name" },
		{ "{\"interfaces\": [{\"name\": \"et h0\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "\"et h0\"" },
		{ "{\"interfaces\": [{\"name\": \"eth0\\n\", \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "is not an interface name" },
		{ "{\"interfaces\": [{\"name\": 5, \"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "expected a string" },
		{ "{\"interfaces\": [{\"mac\": \"02:00:00:00:00:01\"}]}",
		  "network.interfaces[0].name", "missing" },
		/* addresses */
		{ IFACE(", \"addresses\": [\"10.0.0.2/8\", \"10.0.0.1\"]"),
		  "network.interfaces[0].addresses[1]", "\"10.0.0.1\" is not an address with a prefix length" },
		{ IFACE(", \"addresses\": [\"10.0.0.1/33\"]"),
		  "network.interfaces[0].addresses[0]", "\"10.0.0.1/33\"" },
		{ IFACE(", \"addresses\": [\"fd00::1/129\"]"),
		  "network.interfaces[0].addresses[0]", "\"fd00::1/129\"" },
		{ IFACE(", \"addresses\": [\"10.0.0.1/-1\"]"),
		  "network.interfaces[0].addresses[0]", "\"10.0.0.1/-1\"" },
		{ IFACE(", \"addresses\": [\"eth0/24\"]"),
		  "network.interfaces[0].addresses[0]", "\"eth0/24\"" },
		{ IFACE(", \"addresses\": [24]"),
		  "network.interfaces[0].addresses[0]", "expected a string" },
		{ IFACE(", \"addresses\": [null]"),
		  "network.interfaces[0].addresses[0]", "is not an address" },
		{ IFACE(", \"addresses\": \"10.0.0.1/24\""),
		  "network.interfaces[0].addresses", "expected an array" },
		{ IFACE(", \"addresses\": {}"),
		  "network.interfaces[0].addresses", "expected an array" },
		/* MTU */
		{ IFACE(", \"mtu\": 10"), "network.interfaces[0].mtu", "10 is not an MTU" },
		{ IFACE(", \"mtu\": 67"), "network.interfaces[0].mtu", "67 is not an MTU" },
		{ IFACE(", \"mtu\": 70000"), "network.interfaces[0].mtu", "70000 is not an MTU" },
		{ IFACE(", \"mtu\": -1500"), "network.interfaces[0].mtu", "" },
		{ IFACE(", \"mtu\": \"1500\""), "network.interfaces[0].mtu", "" },
		/* routes */
		{ ROUTE("\"destination\": \"0.0.0.0/0\", \"gateway\": \"fe80::1\", \"interface\": \"eth0\""),
		  "network.routes[0].gateway", "not of the destination's address family" },
		{ ROUTE("\"destination\": \"::/0\", \"gateway\": \"10.0.0.1\", \"interface\": \"eth0\""),
		  "network.routes[0].gateway", "not of the destination's address family" },
		{ ROUTE("\"destination\": \"0.0.0.0/0\", \"gateway\": \"10.0.0.1/8\", \"interface\": \"eth0\""),
		  "network.routes[0].gateway", "\"10.0.0.1/8\" is not an address" },
		{ ROUTE("\"destination\": \"10.0.0.0\", \"interface\": \"eth0\""),
		  "network.routes[0].destination", "\"10.0.0.0\" is not an address with a prefix length" },
		{ ROUTE("\"destination\": \"10.0.0.0/33\", \"interface\": \"eth0\""),
		  "network.routes[0].destination", "\"10.0.0.0/33\"" },
		{ ROUTE("\"interface\": \"eth0\""), "network.routes[0].destination", "missing" },
		{ ROUTE("\"destination\": \"10.0.0.0/8\""), "network.routes[0].interface", "missing" },
		{ ROUTE("\"destination\": \"10.0.0.0/8\", \"interface\": \"../x\""),
		  "network.routes[0].interface", "\"../x\" is not an interface name" },
		{ ROUTE("\"destination\": \"10.0.0.0/8\", \"interface\": \"e\", \"metric\": -1"),
		  "network.routes[0].metric", "" },
		{ ROUTE("\"destination\": \"10.0.0.0/8\", \"interface\": \"e\", \"metric\": 4294967296"),
		  "network.routes[0].metric", "4294967296 out of range" },
		/* the containers */
		{ "[]", "network", "expected an object" },
		{ "{\"interfaces\": {}}", "network.interfaces", "expected an array" },
		{ "{\"interfaces\": [\"eth0\"]}", "network.interfaces[0]", "expected an object" },
		{ "{\"routes\": 1}", "network.routes", "expected an array" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct agent_config cfg;
		cleanup_error novm_error_t err = NULL;
		int r = parse_with_network(bad[i].network, &cfg, &err);

		if (r == 0)
			agent_config_release(&cfg);
		ok(r < 0 && err_has(err, "CONFIG: ") && err_has(err, bad[i].want_path) &&
		   err_has(err, bad[i].want_value),
		   "refused: %s -> %s", bad[i].network, r < 0 ? err_msg(err) : "accepted");
	}

	/* a bad second interface: the first one's addresses are freed too
	 * (valgrind checks) */
	struct agent_config cfg;
	cleanup_error novm_error_t err = NULL;
	int r = parse_with_network(
		"{\"interfaces\": [{\"name\": \"a\", \"mac\": \"02:00:00:00:00:01\","
		" \"addresses\": [\"10.0.0.1/8\", \"fd00::1/64\"]},"
		" {\"name\": \"b\", \"mac\": \"02:00:00:00:00:02\","
		" \"addresses\": [\"10.1.0.1/16\", \"10.1.0.2\"]}],"
		" \"routes\": [{\"destination\": \"0.0.0.0/0\", \"interface\": \"a\"}]}",
		&cfg, &err);
	ok(r < 0 && err_has(err, "network.interfaces[1].addresses[1]"),
	   "a bad element after good ones: %s", err_msg(err));

	/* a route error after parsed interfaces */
	novm_error_release(&err);
	r = parse_with_network(
		"{\"interfaces\": [{\"name\": \"a\", \"mac\": \"02:00:00:00:00:01\","
		" \"addresses\": [\"10.0.0.1/8\"]}],"
		" \"routes\": [{\"destination\": \"0.0.0.0/0\", \"interface\": \"a\"},"
		" {\"destination\": \"0.0.0.0/0\", \"gateway\": \"::1\", \"interface\": \"a\"}]}",
		&cfg, &err);
	ok(r < 0 && err_has(err, "network.routes[1].gateway"), "a bad second route: %s",
	   err_msg(err));
}

static void test_absent(void)
{
	struct agent_config cfg;
	novm_error_t err = NULL;
	int r = parse_with_network(NULL, &cfg, &err);

	ok(r == 0 && cfg.network.n_ifaces == 0 && cfg.network.n_routes == 0 &&
	   !cfg.network.ifaces && !cfg.network.routes, "no \"network\": no interfaces, no routes");
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);

	r = parse_with_network("null", &cfg, &err);
	ok(r == 0 && cfg.network.n_ifaces == 0, "\"network\": null is absent");
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);

	r = parse_with_network("{}", &cfg, &err);
	ok(r == 0 && cfg.network.n_ifaces == 0 && cfg.network.n_routes == 0,
	   "\"network\": {} has neither");
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);

	/* an interface without "addresses" or "mtu" */
	r = parse_with_network("{\"interfaces\": [{\"name\": \"eth0\", \"mac\": \"0A:bC:00:ff:FF:09\"}]}",
			       &cfg, &err);
	ok(r == 0 && cfg.network.n_ifaces == 1 && cfg.network.ifaces[0].n_addrs == 0 &&
	   !cfg.network.ifaces[0].addrs && cfg.network.ifaces[0].mtu == 0 &&
	   memcmp(cfg.network.ifaces[0].mac, (uint8_t[]){ 0x0a, 0xbc, 0, 0xff, 0xff, 9 }, 6) == 0,
	   "optional addresses and MTU; MAC hex in either case: %s", err_msg(err));
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);
}

/* ---- agent_addr_parse ---- */

static void test_addr_parse(void)
{
	struct agent_addr a;
	uint8_t want[16];

	pton(AF_INET, "10.0.0.1", want);
	ok(agent_addr_parse("10.0.0.1/24", true, &a) == 0 && addr_eq(&a, AF_INET, want, 24),
	   "10.0.0.1/24");
	ok(agent_addr_parse("10.0.0.1", true, &a) < 0, "10.0.0.1 without a prefix length, one wanted");
	ok(agent_addr_parse("10.0.0.1", false, &a) == 0 && addr_eq(&a, AF_INET, want, -1),
	   "10.0.0.1 plain: prefix_len -1");
	ok(agent_addr_parse("10.0.0.1/24", false, &a) < 0, "a prefix length where none is wanted");
	ok(agent_addr_parse("0.0.0.0/0", true, &a) == 0 && a.prefix_len == 0, "0.0.0.0/0");
	ok(agent_addr_parse("10.0.0.1/32", true, &a) == 0 && a.prefix_len == 32, "/32");
	ok(agent_addr_parse("10.0.0.1/33", true, &a) < 0, "/33 for IPv4");

	pton(AF_INET6, "::1", want);
	ok(agent_addr_parse("::1/128", true, &a) == 0 && addr_eq(&a, AF_INET6, want, 128),
	   "::1/128");
	ok(agent_addr_parse("::1/129", true, &a) < 0, "/129 for IPv6");
	ok(agent_addr_parse("::/0", true, &a) == 0 && a.family == AF_INET6 && a.prefix_len == 0,
	   "::/0");

	static const char *const bad[] = {
		"1.2.3.4/", "1.2.3.4/24x", "1.2.3.4/x", "/24", "", "1.2.3/24", "1.2.3.256/24",
		"1.2.3.4/24/1", "1.2.3.4 /24", "::g/64", "1.2.3.4/99999999999999999999",
		/* strtol's leniency: a blank, a sign */
		"1.2.3.4/ 24", "1.2.3.4/+24", "1.2.3.4/-0", "1.2.3.4/\t8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(agent_addr_parse(bad[i], true, &a) < 0,
		   "\"%s\" refused", bad[i]);

	/* the longest IPv6 text (45 characters) fits; the buffer is not overrun
	 * by longer ones, with or without a slash */
	const char *longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	char text[512];

	ok(strlen(longest) == INET6_ADDRSTRLEN - 1 && agent_addr_parse(longest, false, &a) == 0 &&
	   a.family == AF_INET6, "the longest IPv6 text");
	snprintf(text, sizeof(text), "%s/64", longest);
	ok(agent_addr_parse(text, true, &a) == 0 && a.prefix_len == 64, "... with /64");
	snprintf(text, sizeof(text), "0%s/64", longest);
	ok(agent_addr_parse(text, true, &a) < 0, "one character longer: refused");
	memset(text, '1', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ok(agent_addr_parse(text, false, &a) < 0, "511 digits, no slash");
	text[300] = '/';
	ok(agent_addr_parse(text, true, &a) < 0, "300 digits, a slash, 210 digits");
	memcpy(text, "10.0.0.1/", 9);
	ok(agent_addr_parse(text, true, &a) < 0, "an overlong prefix length");
}

/* The relay's address travels with the plan. */
static void test_dns_relay(void)
{
	struct net_plan plan = { 0 };
	struct agent_config cfg;
	novm_error_t err = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	net_plan_json(&plan, "127.0.0.11", f);
	if (fclose(f) != 0)
		abort();
	cleanup_free char *json = buf;
	int r = parse_with_network(json, &cfg, &err);
	ok(r == 0 && cfg.network.dns_relay && !strcmp(cfg.network.dns_relay, "127.0.0.11"),
	   "dns_relay 127.0.0.11 comes back: %s", err_msg(err));
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);
}

/* start's plan: the first link takes the spare, the rest and their routes
 * are left out; the agent reads PROTO_NETWORK's document with the spare's
 * MAC beside the link's. */
static void test_spares(void)
{
	struct net_plan plan;
	struct agent_network net;
	novm_error_t err = NULL;
	uint8_t spare[6];

	net_spare_mac(0, spare);
	ok((spare[0] & 3) == 2, "the spare's MAC is locally administered and unicast");
	build_plan(&plan);
	net_plan_for_spares(&plan, 1);
	ok(plan.nr_ifaces == 1 && plan.ifaces[0].spare == 1 && plan.ifaces[0].ifindex == 7,
	   "one spare: the first link takes it, the second is left out");
	ok(plan.nr_routes == 2 && plan.routes[0].ifindex == 7 && plan.routes[1].ifindex == 7,
	   "the left-out link's route goes with it (%d left)", plan.nr_routes);

	cleanup_free char *json = plan_text(&plan);
	int r = agent_network_parse_text(json, strlen(json), &net, &err);
	ok(r == 0, "PROTO_NETWORK's document parses: %s", err_msg(err));
	novm_error_release(&err);
	if (r == 0) {
		ok(net.n_ifaces == 1 && net.ifaces[0].has_device_mac &&
			   memcmp(net.ifaces[0].device_mac, spare, 6) == 0,
		   "the interface names the spare by its MAC");
		check_iface(&net.ifaces[0], &plan.ifaces[0], 0);
		ok(net.n_routes == 2 && !net.dns_relay, "2 routes, no DNS relay");
		agent_network_release(&net);
	}

	build_plan(&plan);
	cleanup_free char *own = plan_text(&plan);
	ok(agent_network_parse_text(own, strlen(own), &net, &err) == 0 && net.n_ifaces == 2 &&
		   !net.ifaces[0].has_device_mac && !net.ifaces[1].has_device_mac,
	   "create's links name no spare");
	agent_network_release(&net);
	novm_error_release(&err);

	ok(agent_network_parse_text("[1]", 3, &net, &err) < 0 && err_has(err, "expected an object"),
	   "a document that is no object: %s", err_msg(err));
	novm_error_release(&err);
	ok(agent_network_parse_text("{\"interfaces\": [", 16, &net, &err) < 0 && err_has(err, "NETWORK"),
	   "truncated JSON: %s", err_msg(err));
	novm_error_release(&err);
	ok(agent_network_parse_text("", 0, &net, &err) < 0, "an empty document: %s", err_msg(err));
	novm_error_release(&err);
}

int main(void)
{
	test_round_trip();
	test_spares();
	test_dns_relay();
	test_writer_edges();
	test_bad();
	test_absent();
	test_addr_parse();
	return tap_done();
}
