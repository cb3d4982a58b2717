/* Pod containers, the agent's pure parts: the PROTO_CONTAINER document,
 * the PROTO_EXEC_IN payload, "ps <session>"/"stats <session>", the share
 * staging plan (one mount per tag, a bind per share) and cgroup cpu.stat. */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "agent/hostconfig.h"
#include "agent/procinfo.h"
#include "agent/query.h"
#include "proto/agent.h"
#include "util.h"

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool err_has(novm_error_t err, const char *part)
{
	return err && err->msg && strstr(err->msg, part);
}

/* What a runtime sends for a Kubernetes container: the pod's namespaces
 * by path, its root, a directory and a file from the pod share. */
static const char pod_doc[] =
	"{\"id\": \"ctr-1\","
	" \"config\": {\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
	"  \"process\": {\"args\": [\"sleep\", \"1\"], \"cwd\": \"/\"},"
	"  \"mounts\": [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/h/data\","
	"    \"options\": [\"rbind\"]},"
	"   {\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"/h/hosts\","
	"    \"options\": [\"bind\", \"ro\"]}],"
	"  \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"},"
	"    {\"type\": \"network\", \"path\": \"/proc/42/ns/net\"},"
	"    {\"type\": \"ipc\", \"path\": \"/proc/42/ns/ipc\"},"
	"    {\"type\": \"uts\", \"path\": \"/proc/42/ns/uts\"}]}},"
	" \"shares\": [{\"tag\": \"novm-pod\", \"destination\": \"/\", \"path\": \"ctr-1.root\"},"
	"  {\"tag\": \"novm-pod\", \"destination\": \"/data\", \"source\": \"/h/data\","
	"   \"path\": \"ctr-1.m0\"},"
	"  {\"tag\": \"novm-pod\", \"destination\": \"/etc/hosts\", \"source\": \"/h/hosts\","
	"   \"path\": \"ctr-1.m1\", \"readonly\": true}]}";

static int parse_pod(const char *text, struct agent_config *cfg, novm_error_t *err)
{
	return agent_container_parse(text, strlen(text), cfg, err);
}

static void test_container_doc(void)
{
	struct agent_config cfg;
	novm_error_t err = NULL;
	int r = parse_pod(pod_doc, &cfg, &err);

	ok(r == 0, "a pod container's document parses%s%s", err ? ": " : "", err ? err->msg : "");
	if (r < 0) {
		novm_error_release(&err);
		return;
	}
	ok(str_eq(cfg.id, "ctr-1"), "its id is read");
	ok(cfg.n_shares == 3 && agent_config_root_share(&cfg) == &cfg.shares[0] &&
	   str_eq(cfg.shares[0].path, "ctr-1.root") && str_eq(cfg.shares[2].path, "ctr-1.m1"),
	   "its shares: the root and two grafts of the pod share");
	ok(cfg.spec->linux_.n_namespaces == 5 &&
	   str_eq(oci_spec_namespace(cfg.spec, "network")->path, "/proc/42/ns/net") &&
	   !oci_spec_namespace(cfg.spec, "pid")->path,
	   "namespaces by path are kept for the agent to join the sandbox's");
	agent_config_release(&cfg);

	/* PROTO_CONFIG's parser is the same one and takes no id. */
	r = agent_config_parse(pod_doc, strlen(pod_doc), &cfg, &err);
	ok(r == 0 && !cfg.id, "PROTO_CONFIG ignores an id");
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);

#define PROC "\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}"
#define ROOT "{\"tag\": \"novm-pod\", \"destination\": \"/\", \"path\": \"r\"}"
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "{" PROC ", \"shares\": [" ROOT "]}", "id: missing" },
		{ "{\"id\": \"\", " PROC ", \"shares\": [" ROOT "]}", "id: expected 1 to" },
		{ "{\"id\": 5, " PROC ", \"shares\": [" ROOT "]}", "id" },
		{ "{\"id\": \"c\", " PROC "}", "no share for \"/\"" },
		{ "{\"id\": \"c\", " PROC ", \"shares\": [{\"tag\": \"rootfs\", \"destination\": \"/\","
		  " \"path\": \"r\"}]}",
		  "not the pod's \"novm-pod\"" },
		{ "{\"id\": \"c\", " PROC ", \"shares\": [{\"tag\": \"novm-pod\", \"destination\": \"/\"}]}",
		  "must name a graft" },
		{ "{\"id\": \"c\", " PROC ", \"shares\": [{\"tag\": \"novm-pod\", \"destination\": \"/\","
		  " \"path\": \"a/b\"}]}",
		  "must name a graft" },
		{ "{\"id\": \"c\", " PROC ", \"shares\": [{\"tag\": \"novm-pod\", \"destination\": \"/\","
		  " \"path\": \"..\"}]}",
		  "must name a graft" },
		{ "{\"id\": \"c\", " PROC ", \"shares\": [" ROOT ", {\"tag\": \"novm-pod\","
		  " \"destination\": \"/x\", \"path\": \"\"}]}",
		  "share 1: \"path\" must name a graft" },
		{ "{\"id\": \"c\", \"config\": {\"process\": {\"cwd\": \"/\"}}, \"shares\": [" ROOT "]}",
		  "config.process.args" },
		{ "[]", "expected an object" },
		/* The sandbox's own keys. */
		{ "{\"id\": \"c\", \"start\": true, " PROC ", \"shares\": [" ROOT "]}",
		  "a pod container cannot set \"start\"" },
		{ "{\"id\": \"c\", \"hostname\": \"h\", " PROC ", \"shares\": [" ROOT "]}",
		  "a pod container cannot set \"hostname\"" },
		{ "{\"id\": \"c\", \"network\": {}, " PROC ", \"shares\": [" ROOT "]}",
		  "a pod container cannot set \"network\"" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse_pod(bad[i].text, &cfg, &err);
		ok(r < 0 && err_has(err, bad[i].want), "bad CONTAINER %zu fails naming \"%s\": %s", i,
		   bad[i].want, err ? err->msg : "(accepted)");
		if (r == 0)
			agent_config_release(&cfg);
		novm_error_release(&err);
	}

	/* A graft name of CONTROL_MAX_GRAFT_NAME is the longest there is. */
	char long_doc[1024], name[200];

	memset(name, 'a', sizeof(name));
	for (int len = 128; len <= 129; len++) {
		name[len] = '\0';
		snprintf(long_doc, sizeof(long_doc),
			 "{\"id\": \"c\", " PROC ", \"shares\": [{\"tag\": \"novm-pod\","
			 " \"destination\": \"/\", \"path\": \"%s\"}]}", name);
		r = parse_pod(long_doc, &cfg, &err);
		ok((r == 0) == (len == 128), "a graft name of %d bytes is %s", len,
		   len == 128 ? "taken" : "refused");
		if (r == 0)
			agent_config_release(&cfg);
		novm_error_release(&err);
		name[len] = 'a';
	}
#undef PROC
#undef ROOT
}

static void test_exec_in(void)
{
	uint8_t payload[64];
	uint32_t le = htole32(0x01020304), target = 0;
	const char *json = NULL, *proc = "{\"args\": [\"ls\"]}";
	size_t len = 0;
	novm_error_t err = NULL;

	memcpy(payload, &le, 4);
	memcpy(payload + 4, proc, strlen(proc));
	ok(agent_exec_in_split(payload, 4 + strlen(proc), &target, &json, &len, &err) == 0 &&
	   target == 0x01020304 && json == (const char *)payload + 4 && len == strlen(proc),
	   "EXEC_IN: a little-endian session, then the process JSON");
	ok(agent_exec_in_split(payload, 4, &target, &json, &len, &err) == 0 && len == 0,
	   "EXEC_IN: the JSON may be empty here (its parser refuses it)");
	ok(agent_exec_in_split(payload, 3, &target, &json, &len, &err) < 0 &&
	   err_has(err, "no target session"), "EXEC_IN: fewer than 4 bytes are refused");
	novm_error_release(&err);
}

static void test_query_parse(void)
{
	static const struct {
		const char *text;
		enum query_kind kind;
		bool has_session;
		uint32_t session;
	} good[] = {
		{ "ps", QUERY_PS, false, 0 },
		{ "stats", QUERY_STATS, false, 0 },
		{ "ps 7", QUERY_PS, true, 7 },
		{ "stats 0", QUERY_STATS, true, 0 },
		{ "ps 4294967295", QUERY_PS, true, 4294967295u },
	};
	static const char *const bad[] = {
		"", "p", "psx", "ps ", "ps  1", "ps -1", "ps +1", "ps 1 ", "ps 4294967296",
		"ps 99999999999", "ps 1a", "stats\n", "top", "ps\t1",
	};
	struct query_request q;
	novm_error_t err = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = query_parse(good[i].text, strlen(good[i].text), &q, &err);

		ok(r == 0 && q.kind == good[i].kind && q.has_session == good[i].has_session &&
		   (!q.has_session || q.session == good[i].session), "query \"%s\" parses",
		   good[i].text);
		novm_error_release(&err);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = query_parse(bad[i], strlen(bad[i]), &q, &err);

		ok(r < 0 && err_has(err, "unknown"), "bad query %zu is refused", i);
		novm_error_release(&err);
	}
	/* The length counts, not a NUL: "ps\0 1" is not "ps". */
	ok(query_parse("ps\0", 3, &q, &err) < 0, "a NUL in the query is refused");
	novm_error_release(&err);
}

static void test_staging_plan(void)
{
	struct agent_config cfg;
	novm_error_t err = NULL;
	const char *doc =
		"{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}},"
		" \"shares\": [{\"tag\": \"pod\", \"destination\": \"/\", \"path\": \"r\", \"readonly\": true},"
		"  {\"tag\": \"m0\", \"destination\": \"/a\", \"readonly\": true},"
		"  {\"tag\": \"pod\", \"destination\": \"/b\", \"path\": \"b\", \"readonly\": true},"
		"  {\"tag\": \"m1\", \"destination\": \"/c\", \"readonly\": true},"
		"  {\"tag\": \"m1\", \"destination\": \"/d\", \"path\": \"d\", \"readonly\": true},"
		"  {\"tag\": \"m2\", \"destination\": \"/e\", \"readonly\": true},"
		"  {\"tag\": \"m2\", \"destination\": \"/f\", \"path\": \"f\"}]}";
	int r = agent_config_parse(doc, strlen(doc), &cfg, &err);

	ok(r == 0, "staging plan: the document parses%s%s", err ? ": " : "", err ? err->msg : "");
	if (r < 0) {
		novm_error_release(&err);
		return;
	}
	ok(agent_share_staging_index(&cfg, 0) == 0 && agent_share_staging_index(&cfg, 2) == 0 &&
	   agent_share_staging_index(&cfg, 4) == 3 && agent_share_staging_index(&cfg, 6) == 5,
	   "staging plan: a tag is mounted once, by its first share, for all of them");
	ok(agent_share_staging_index(&cfg, 1) == 1 && agent_share_staging_index(&cfg, 3) == 3,
	   "staging plan: a tag of its own is its share's");
	ok(!agent_share_staging_readonly(&cfg, 0) && !agent_share_staging_readonly(&cfg, 2),
	   "staging plan: a tag with the root is mounted read-write (the root is made read-only last)");
	ok(agent_share_staging_readonly(&cfg, 1) && agent_share_staging_readonly(&cfg, 4),
	   "staging plan: a tag whose shares are all read-only is mounted read-only");
	ok(!agent_share_staging_readonly(&cfg, 5) && !agent_share_staging_readonly(&cfg, 6),
	   "staging plan: one read-write share makes its tag's mount read-write");
	agent_config_release(&cfg);
}

static void test_cpu_stat(void)
{
	ok(cgroup_flat_value("usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n", "usage_usec") == 1234,
	   "cpu.stat: usage_usec");
	ok(cgroup_flat_value("user_usec 1\nusage_usec 99", "usage_usec") == 99,
	   "cpu.stat: usage_usec on a later line, no final newline");
	ok(cgroup_flat_value("user_usec 1\n", "usage_usec") == -1 &&
	   cgroup_flat_value("usage_usec x\n", "usage_usec") == -1 &&
	   cgroup_flat_value("", "usage_usec") == -1, "cpu.stat: missing or not a number");
	ok(cgroup_flat_value("low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n",
			     "oom_kill") == 1, "memory.events: oom_kill, not oom nor oom_group_kill");
	ok(cgroup_flat_value("oom_group_kill 4\n", "oom_kill") == -1,
	   "memory.events: a longer key is not the key");
}

struct walk {
	const char *want;
	int seen, matched;
};

static void count_pid(const char *pid, void *opaque)
{
	struct walk *w = opaque;

	w->seen++;
	w->matched += strcmp(pid, w->want) == 0;
}

/* The walk "ps <session>" and kill --all use, on the host's own /proc:
 * this process is found in its own cgroup v2, nobody in a made-up one. */
static void test_cgroup_walk(void)
{
	char *text = NULL, self[32], *line, *end;
	struct walk w = { .want = self };

	snprintf(self, sizeof(self), "%d", (int)getpid());
	if (read_file("/proc/self/cgroup", &text, NULL, NULL) < 0 ||
	    !(line = strstr(text, "0::/")) || (line != text && line[-1] != '\n')) {
		ok(1, "cgroup walk: skipped, no cgroup v2 line in /proc/self/cgroup");
		free(text);
		return;
	}
	line += 3;
	end = strchrnul(line, '\n');
	*end = '\0';
	ok(proc_each_in_cgroup(line, count_pid, &w) == 0 && w.matched == 1,
	   "cgroup walk: this process is in its cgroup `%s` (%d seen)", line, w.seen);
	w = (struct walk){ .want = self };
	ok(proc_each_in_cgroup("/novm-test-no-such-cgroup", count_pid, &w) == 0 && w.seen == 0,
	   "cgroup walk: nobody is in a cgroup that does not exist");
	free(text);
}

int main(void)
{
	test_container_doc();
	test_exec_in();
	test_query_parse();
	test_staging_plan();
	test_cpu_stat();
	test_cgroup_walk();
	return tap_done();
}
