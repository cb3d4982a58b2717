/* The agent's container mode, pure parts: frame decoding, the CONFIG and
 * EXEC payloads, mount options and kinds, sysctl keys, the /proc parsers
 * of the queries, /etc/passwd, and the PATH lookup with runc's messages. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "agent/hostconfig.h"
#include "agent/link.h"
#include "agent/process.h"
#include "agent/query.h"
#include "agent/rootspec.h"
#include "util.h"

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool err_has(novm_error_t err, const char *part)
{
	return err && err->msg && strstr(err->msg, part);
}

/* ---- frames ---- */

static size_t frame(uint8_t *out, uint16_t type, uint32_t session, const char *payload)
{
	size_t len = strlen(payload);
	struct proto_header h;

	link_encode_header(&h, type, session, (uint32_t)len);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), payload, len);
	return sizeof(h) + len;
}

static void test_decoder(void)
{
	uint8_t wire[256];
	struct link_decoder d;
	struct link_frame f;
	struct proto_header h;
	novm_error_t err = NULL;
	size_t n = 0;
	int r, got = 0;
	bool ok_bytes = true;

	link_encode_header(&h, PROTO_EXIT, 0x01020304, 0x0a0b0c0d);
	const uint8_t want[] = { 0x0d, 0x0c, 0x0b, 0x0a, 4, 0, 0, 0, 4, 3, 2, 1 };
	ok(sizeof(h) == 12 && memcmp(&h, want, sizeof(want)) == 0,
	   "header is 12 little-endian bytes: len, type, reserved, session");

	n += frame(wire + n, PROTO_STDIN, 7, "hello");
	n += frame(wire + n, PROTO_START, 0, "");
	n += frame(wire + n, PROTO_QUERY, 9, "ps");

	/* one byte at a time: frames appear exactly when complete */
	link_decoder_init(&d);
	for (size_t i = 0; i < n; i++) {
		link_decoder_feed(&d, wire + i, 1, &err);
		while ((r = link_decoder_next(&d, &f, &err)) > 0) {
			got++;
			if (got == 1)
				ok_bytes &= f.type == PROTO_STDIN && f.session == 7 && f.len == 5 &&
					    memcmp(f.payload, "hello", 5) == 0 && i == 16;
			if (got == 2)
				ok_bytes &= f.type == PROTO_START && f.len == 0 && i == 28;
			if (got == 3)
				ok_bytes &= f.type == PROTO_QUERY && f.session == 9 && f.len == 2 &&
					    memcmp(f.payload, "ps", 2) == 0 && i == n - 1;
		}
		ok_bytes &= r == 0;
	}
	ok(got == 3 && ok_bytes, "byte-by-byte feed yields 3 frames, each at its last byte");
	link_decoder_release(&d);

	/* all at once */
	link_decoder_init(&d);
	link_decoder_feed(&d, wire, n, &err);
	got = 0;
	while (link_decoder_next(&d, &f, &err) > 0)
		got++;
	ok(got == 3 && d.start == d.used, "one feed of three frames yields three");
	link_decoder_release(&d);

	/* an oversized length loses framing for good */
	link_decoder_init(&d);
	link_encode_header(&h, PROTO_STDIN, 1, PROTO_MAX_PAYLOAD + 1);
	link_decoder_feed(&d, &h, sizeof(h), &err);
	r = link_decoder_next(&d, &f, &err);
	ok(r < 0 && err_has(err, "over the"), "payload over the limit is refused: %s",
	   err ? err->msg : "");
	novm_error_release(&err);
	ok(link_decoder_feed(&d, wire, n, &err) < 0 && d.broken, "and the decoder stays broken");
	novm_error_release(&err);
	link_decoder_release(&d);

	/* exactly the limit is fine (header only fed: needs more) */
	link_decoder_init(&d);
	link_encode_header(&h, PROTO_STDIN, 1, PROTO_MAX_PAYLOAD);
	link_decoder_feed(&d, &h, sizeof(h), &err);
	ok(link_decoder_next(&d, &f, &err) == 0, "payload of exactly the limit waits for its bytes");
	link_decoder_release(&d);
}

/* ---- CONFIG / EXEC ---- */

static const char full_config[] =
	"{\"config\": {\"ociVersion\": \"1.2.1\","
	" \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
	" \"hostname\": \"box\","
	" \"process\": {\"args\": [\"sh\", \"-c\", \"true\"], \"cwd\": \"/work\","
	"   \"env\": [\"PATH=/bin\"], \"terminal\": true,"
	"   \"user\": {\"uid\": 1000, \"gid\": 100, \"additionalGids\": [5]},"
	"   \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 10, \"soft\": 5}]},"
	" \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
	"   {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/h\","
	"    \"options\": [\"rbind\", \"ro\"]}],"
	" \"linux\": {\"maskedPaths\": [\"/proc/kcore\"],"
	"   \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
	"   \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	"     {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}}},"
	" \"shares\": [{\"tag\": \"rootfs\", \"destination\": \"/\"},"
	"   {\"tag\": \"m0\", \"destination\": \"/data\", \"readonly\": true},"
	"   {\"tag\": \"m1\", \"destination\": \"/etc/hosts\", \"source\": \"/h/hosts\","
	"    \"path\": \"hosts\"}],"
	" \"hostname\": \"override\", \"start\": true}";

static int parse_cfg(const char *text, struct agent_config *cfg, novm_error_t *err)
{
	return agent_config_parse(text, strlen(text), cfg, err);
}

static void test_config(void)
{
	struct agent_config cfg;
	novm_error_t err = NULL;
	const struct oci_spec *s;
	int r = parse_cfg(full_config, &cfg, &err);

	ok(r == 0, "full CONFIG parses%s%s", err ? ": " : "", err ? err->msg : "");
	if (r < 0) {
		novm_error_release(&err);
		return;
	}
	s = cfg.spec;
	ok(s->root.readonly && str_eq(s->root.path, "rootfs"),
	   "root.readonly read, root.path kept as written (no bundle, no stat)");
	ok(s->process.args.len == 3 && str_eq(s->process.args.items[0], "sh") &&
	   s->process.args.items[3] == NULL && str_eq(s->process.cwd, "/work") &&
	   s->process.terminal && s->process.user.uid == 1000 && s->process.user.gid == 100 &&
	   s->process.user.n_additional_gids == 1 && s->process.n_rlimits == 1 &&
	   s->process.rlimits[0].soft == 5,
	   "process section");
	ok(s->n_mounts == 2 && str_eq(s->mounts[1].destination, "/data") &&
	   s->mounts[1].options.len == 2, "mounts");
	ok(s->has_linux && s->linux_.masked_paths.len == 1 && s->linux_.n_sysctl == 1 &&
	   s->linux_.seccomp && s->linux_.seccomp->n_syscalls == 1, "linux section");
	ok(cfg.n_shares == 3 && str_eq(cfg.shares[1].tag, "m0") && cfg.shares[1].readonly &&
	   !cfg.shares[1].source && str_eq(cfg.shares[2].source, "/h/hosts") &&
	   str_eq(cfg.shares[2].path, "hosts"), "shares");
	ok(agent_config_root_share(&cfg) == &cfg.shares[0], "the share on / is the root");
	ok(str_eq(cfg.hostname, "override") && str_eq(s->hostname, "box") && cfg.start,
	   "hostname override and start flag");
	agent_config_release(&cfg);

	r = parse_cfg("{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}}", &cfg,
		      &err);
	ok(r == 0 && cfg.n_shares == 0 && !agent_config_root_share(&cfg) && !cfg.start &&
	   !cfg.hostname, "minimal CONFIG: no shares, no start");
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);

	/* The sections the guest does not act on pass as the runtime sent them. */
	r = parse_cfg("{\"config\": {\"ociVersion\": \"1.0.2-dev\", \"root\": {\"path\": \"rootfs\"},"
		      " \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		      " \"hooks\": {\"prestart\": [{\"path\": \"/bin/hook\", \"timeout\": 5}]},"
		      " \"annotations\": {\"a\": \"b\"},"
		      " \"vm\": {\"kernel\": {\"path\": \"/boot/vmlinuz\"}, \"hwConfig\": {\"vcpus\": 2}}}}",
		      &cfg, &err);
	ok(r == 0 && cfg.spec->hooks.prestart.len == 1 && cfg.spec->n_annotations == 1 &&
	   cfg.spec->vm && cfg.spec->vm->vcpus == 2 && !cfg.spec->text,
	   "hooks, annotations and vm forwarded by the runtime are accepted%s%s", err ? ": " : "",
	   err ? err->msg : "");
	if (r == 0)
		agent_config_release(&cfg);
	novm_error_release(&err);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "{\"shares\": []}", "config: missing" },
		{ "[1]", "expected an object" },
		{ "{\"config\": {\"process\": {\"cwd\": \"/\"}}}", "config.process.args" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"rel\"}}}",
		  "config.process.cwd" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}},"
		  " \"shares\": [{\"tag\": \"a/b\", \"destination\": \"/x\"}]}",
		  "is not a virtio-fs tag" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}},"
		  " \"shares\": [{\"tag\": \"0123456789012345678901234567890123456\","
		  " \"destination\": \"/x\"}]}",
		  "is not a virtio-fs tag" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}},"
		  " \"shares\": [{\"tag\": \"a\", \"destination\": \"x\"}]}",
		  "shares[0].destination" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}},"
		  " \"shares\": [{\"tag\": \"a\", \"destination\": \"/\"},"
		  " {\"tag\": \"b\", \"destination\": \"//\"}]}",
		  "more than one share" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"mounts\": [{\"destination\": \"rel\"}]}}",
		  "mounts[0].destination" },
		/* oci_parse_mount's own checks hold in the guest too. */
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"mounts\": [{\"destination\": \"\"}]}}",
		  "must not be empty" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"mounts\": [{\"type\": \"tmpfs\"}]}}",
		  "mounts[0].destination" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}, \"start\": 1}",
		  "start" },
		/* Read by oci/'s parser, the agent checks what the runtime
		 * checked against the bundle (it never forwards these). */
		{ "{\"config\": {\"ociVersion\": \"2.0\","
		  " \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}}",
		  "config.ociVersion: unsupported version" },
		{ "{\"config\": {\"root\": {\"readonly\": true},"
		  " \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}}",
		  "config.root.path: missing" },
		{ "{\"config\": {\"root\": {\"path\": \"\"},"
		  " \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}}",
		  "config.root.path: must not be empty" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"hooks\": {\"poststop\": [{\"path\": \"rel\"}]}}}",
		  "config.hooks.poststop[0].path" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"annotations\": [\"a\"]}}",
		  "config.annotations" },
		{ "{\"config\": {\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"vm\": {\"hwConfig\": {\"vcpus\": 0}}}}",
		  "config.vm.hwConfig.vcpus" },
		{ "{\"config\": 7}", "config: expected an object" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse_cfg(bad[i].text, &cfg, &err);
		ok(r < 0 && err_has(err, bad[i].want), "bad CONFIG %zu fails naming \"%s\": %s", i,
		   bad[i].want, err ? err->msg : "(accepted)");
		if (r == 0)
			agent_config_release(&cfg);
		novm_error_release(&err);
	}
}

static void test_exec_payload(void)
{
	struct oci_process p;
	novm_error_t err = NULL;
	const char *good = "{\"args\": [\"id\", \"-u\"], \"cwd\": \"/\", \"env\": [\"A=1\"],"
			   " \"user\": {\"uid\": 7, \"gid\": 8}}";
	int r = oci_process_parse("EXEC", good, strlen(good), &p, &err);

	ok(r == 0 && p.args.len == 2 && str_eq(p.args.items[1], "-u") && p.user.uid == 7 &&
	   p.env.len == 1, "EXEC payload parses into a process");
	if (r == 0)
		oci_process_release(&p);
	novm_error_release(&err);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[\"x\"]", "expected a process object" },
		{ "{\"cwd\": \"/\"}", "process.args" },
		{ "{\"args\": [], \"cwd\": \"/\"}", "process.args" },
		{ "{\"args\": [\"x\"], \"cwd\": \"/\"}, \"y\": {", "invalid JSON" },
		{ "{\"args\": [\"x\"], \"cwd\": \"/\"}}{", "invalid JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = oci_process_parse("EXEC", bad[i].text, strlen(bad[i].text), &p, &err);
		ok(r < 0 && err_has(err, bad[i].want), "bad EXEC %zu fails naming \"%s\": %s", i,
		   bad[i].want, err ? err->msg : "(accepted)");
		if (r == 0)
			oci_process_release(&p);
		novm_error_release(&err);
	}
}

/* ---- mounts, sysctl ---- */

static bool opts_are(const char *const *words, size_t n, unsigned long flags,
		     unsigned long prop, const char *data)
{
	struct mount_opts o;
	novm_error_t err = NULL;
	bool same;

	if (mount_opts_parse((char *const *)words, n, &o, &err) < 0) {
		novm_error_release(&err);
		return false;
	}
	same = o.flags == flags && o.propagation == prop &&
	       (data ? str_eq(o.data, data) : o.data == NULL);
	mount_opts_release(&o);
	return same;
}

static void test_mount_opts(void)
{
	const char *dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
	const char *pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" };
	const char *rw[] = { "ro", "rw", "nodev", "dev" };
	const char *rbind[] = { "rbind", "rprivate", "ro" };
	const char *ignored[] = { "tmpcopyup", "", "defaults" };
	const char *comma[] = { "mode=755,uid=0" };
	struct mount_opts o;
	novm_error_t err = NULL;

	ok(opts_are(dev, 4, MS_NOSUID | MS_STRICTATIME, 0, "mode=755,size=65536k"),
	   "runc's /dev tmpfs options: flags and data apart");
	ok(opts_are(pts, 5, MS_NOSUID | MS_NOEXEC, 0, "newinstance,ptmxmode=0666,mode=0620"),
	   "devpts options");
	ok(opts_are(rw, 4, 0, 0, NULL), "a later word undoes an earlier one (ro rw, nodev dev)");
	ok(opts_are(rbind, 3, MS_BIND | MS_REC | MS_RDONLY, MS_PRIVATE | MS_REC, NULL),
	   "rbind, rprivate as propagation, ro");
	ok(opts_are(ignored, 3, 0, 0, NULL), "tmpcopyup, empty and defaults add nothing");
	ok(mount_opts_parse((char *const *)comma, 1, &o, &err) < 0 && err_has(err, "comma"),
	   "a comma inside one option is refused");
	novm_error_release(&err);

	mount_opts_parse((char *const *)rbind, 3, &o, &err);
	ok(mount_opts_remount_flags(&o) == MS_RDONLY, "remount flags of rbind,ro: MS_RDONLY only");
	ok(mount_kind_of("tmpfs", &o) == MOUNT_KIND_BIND, "a bind option wins over the type");
	mount_opts_release(&o);
	memset(&o, 0, sizeof(o));
	ok(mount_kind_of("bind", &o) == MOUNT_KIND_BIND && mount_kind_of("proc", &o) == MOUNT_KIND_PROC &&
	   mount_kind_of("cgroup", &o) == MOUNT_KIND_CGROUP &&
	   mount_kind_of("cgroup2", &o) == MOUNT_KIND_CGROUP &&
	   mount_kind_of("devpts", &o) == MOUNT_KIND_DEVPTS &&
	   mount_kind_of("ext4", &o) == MOUNT_KIND_OTHER && mount_kind_of(NULL, &o) == MOUNT_KIND_OTHER,
	   "kinds by type");
}

static void test_sysctl(void)
{
	static const struct {
		const char *key, *want;
	} cases[] = {
		{ "net.ipv4.ip_forward", "net/ipv4/ip_forward" },
		{ "kernel/shmmax", "kernel/shmmax" },
		{ "fs.mqueue.msg_max", "fs/mqueue/msg_max" },
		{ "", NULL },
		{ "/proc/x", NULL },
		{ ".hidden", NULL },
		{ "net..x", NULL },
		{ "net/../../etc", NULL },
		{ "net.ipv4.", NULL },
		{ "a b", NULL },
		{ "a\nb", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = NULL;
		novm_error_t err = NULL;
		int r = sysctl_key_path(cases[i].key, &path, &err);

		if (cases[i].want)
			ok(r == 0 && str_eq(path, cases[i].want), "sysctl %s -> %s", cases[i].key,
			   cases[i].want);
		else
			ok(r < 0 && err_has(err, "not a valid key"), "sysctl key %zu refused", i);
		free(path);
		novm_error_release(&err);
	}
}

/* ---- /proc, passwd, env ---- */

static void test_proc_parsers(void)
{
	char cmd[] = "sh\0-c\0echo a\0";
	char one[] = "init\0";

	ok(proc_stat_ppid("123 (weird) name) S 45 123 123 0 -1") == 45,
	   "ppid after the last ')' of the command name");
	ok(proc_stat_ppid("garbage") == -1, "no ')' -> -1");
	ok(proc_status_uid("Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGid:\t0\n") == 1000,
	   "real uid from status");
	ok(proc_status_uid("Name:\tsh\n") == -1, "no Uid line -> -1");
	ok(proc_stat_busy_ticks("cpu  10 2 30 1000 50 6 7 8 0 0\ncpu0 1 1 1 1\n") == 63,
	   "busy ticks: user+nice+system+irq+softirq+steal");
	ok(proc_stat_busy_ticks("intr 1\n") == -1, "no cpu line -> -1");
	cmdline_join(cmd, sizeof(cmd) - 1);
	ok(str_eq(cmd, "sh -c echo a"), "cmdline NULs become spaces (%s)", cmd);
	cmdline_join(one, sizeof(one) - 1);
	ok(str_eq(one, "init"), "trailing NUL dropped");
}

static void test_passwd_env(void)
{
	const char *passwd = "root:x:0:0:root:/root:/bin/bash\n"
			     "broken line\n"
			     "svc:x:12:12::/srv\n"
			     "user:x:1000:1000:User,,,:/home/user:/bin/sh\n"
			     "user2:x:10000:1:x:/home/u2:/bin/sh";
	char *env[] = { "PATH=/bin", "HOMEX=no", "HOME=/h", NULL };
	char *h;

	h = passwd_home(passwd, 1000);
	ok(str_eq(h, "/home/user"), "home of uid 1000");
	free(h);
	h = passwd_home(passwd, 12);
	ok(str_eq(h, "/srv"), "home on a line without a shell field");
	free(h);
	h = passwd_home(passwd, 100);
	ok(h == NULL, "uid 100 is not a prefix match of 1000 or 10000");
	free(h);
	ok(str_eq(process_env_get(env, "HOME"), "/h") && str_eq(process_env_get(env, "PATH"), "/bin") &&
	   process_env_get(env, "HOM") == NULL && process_env_get(NULL, "X") == NULL,
	   "env lookup matches whole keys");
}

/* ---- PATH lookup ---- */

static void touch(const char *dir, const char *name, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd >= 0) {
		if (write(fd, "#!/bin/sh\n", 10) < 0)
			perror("write");
		fchmod(fd, mode);
		close(fd);
	}
}

static void test_find_executable(void)
{
	char dir[] = "/tmp/novm-agent-path-XXXXXX", other[64], search[256], want[256], abs[64];
	char *out = NULL, cwd[512];
	novm_error_t err = NULL;
	int r;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(other, sizeof(other), "%s/other", dir);
	mkdir(other, 0755);
	touch(dir, "prog", 0755);
	touch(dir, "data", 0644);
	touch(other, "data", 0755);
	snprintf(abs, sizeof(abs), "%s/sub", dir);
	mkdir(abs, 0755);

	snprintf(search, sizeof(search), "/nonexistent:%s:%s", dir, other);
	snprintf(want, sizeof(want), "%s/prog", dir);
	r = process_find_executable("prog", search, &out, &err);
	ok(r == 0 && str_eq(out, want), "found in the second PATH entry (%s)", out ? out : "");
	free(out);
	out = NULL;

	snprintf(want, sizeof(want), "%s/data", other);
	r = process_find_executable("data", search, &out, &err);
	ok(r == 0 && str_eq(out, want), "a non-executable match is passed over (%s)",
	   out ? out : "");
	free(out);
	out = NULL;

	r = process_find_executable("nope", search, &out, &err);
	ok(r == PROCESS_STATUS_NOT_FOUND && err &&
	   str_eq(err->msg, "exec: \"nope\": executable file not found in $PATH"),
	   "not found: 127 and runc's message (%s)", err ? err->msg : "");
	novm_error_release(&err);

	r = process_find_executable("sub", dir, &out, &err);
	ok(r == PROCESS_STATUS_NOT_FOUND, "a directory on PATH does not match");
	novm_error_release(&err);

	r = process_find_executable("/nonexistent/x", search, &out, &err);
	ok(r == PROCESS_STATUS_NOT_FOUND && err &&
	   str_eq(err->msg, "exec: \"/nonexistent/x\": stat /nonexistent/x: no such file or directory"),
	   "missing path: 127, Go-style message (%s)", err ? err->msg : "");
	novm_error_release(&err);

	snprintf(abs, sizeof(abs), "%s/data", dir);
	r = process_find_executable(abs, search, &out, &err);
	snprintf(want, sizeof(want), "exec: \"%s\": permission denied", abs);
	ok(r == PROCESS_STATUS_NOT_EXECUTABLE && err && str_eq(err->msg, want),
	   "not executable: 126 (%s)", err ? err->msg : "");
	novm_error_release(&err);

	snprintf(abs, sizeof(abs), "%s/sub", dir);
	r = process_find_executable(abs, search, &out, &err);
	snprintf(want, sizeof(want), "exec: \"%s\": is a directory", abs);
	ok(r == PROCESS_STATUS_NOT_EXECUTABLE && err && str_eq(err->msg, want),
	   "a directory: 126 (%s)", err ? err->msg : "");
	novm_error_release(&err);

	/* an empty PATH entry is the current directory */
	if (getcwd(cwd, sizeof(cwd)) && chdir(dir) == 0) {
		r = process_find_executable("prog", "/nonexistent::", &out, &err);
		ok(r == 0 && str_eq(out, "./prog"), "empty PATH entry means . (%s)", out ? out : "");
		free(out);
		out = NULL;
		novm_error_release(&err);
		if (chdir(cwd) < 0)
			perror("chdir");
	}
	remove_tree(dir, &err);
	novm_error_release(&err);
}

int main(void)
{
	test_decoder();
	test_config();
	test_exec_payload();
	test_mount_opts();
	test_sysctl();
	test_proc_parsers();
	test_passwd_env();
	test_find_executable();
	return tap_done();
}
