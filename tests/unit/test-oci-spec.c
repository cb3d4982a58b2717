/* config.json into struct oci_spec: a full config with every field, each
 * invalid bundle with its error line, root path resolution, and the
 * default spec written and read back. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "cleanup.h"
#include "util.h"
#include "oci/default-spec.h"
#include "oci/json.h"
#include "oci/spec-internal.h"
#include "oci/spec.h"

static char bundle[PATH_MAX];

static void make_bundle(void)
{
	char rootfs[PATH_MAX + 16];

	strcpy(bundle, "/tmp/novm-oci-spec-XXXXXX");
	if (!mkdtemp(bundle)) {
		perror("mkdtemp");
		exit(99);
	}
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	if (mkdir(rootfs, 0755) < 0) {
		perror("mkdir");
		exit(99);
	}
}

static void write_config(const char *text)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
}

static bool strv_is(const struct oci_strv *v, const char *const *want)
{
	size_t n = 0;

	while (want[n])
		n++;
	if (v->len != n || !v->items || v->items[n])
		return false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v->items[i], want[i]) != 0)
			return false;
	}
	return true;
}

#define STRV_IS(v, ...) strv_is((v), (const char *const[]){ __VA_ARGS__, NULL })

static bool str_is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

static void check_process(const struct oci_process *p)
{
	ok(p->terminal && p->has_console_size && p->console_height == 25 && p->console_width == 80,
	   "process: terminal and console size");
	ok(p->user.uid == 1000 && p->user.gid == 100 && p->user.has_umask && p->user.umask == 18,
	   "process.user: uid, gid, umask");
	ok(p->user.n_additional_gids == 3 && p->user.additional_gids[0] == 5 &&
	   p->user.additional_gids[1] == 6 && p->user.additional_gids[2] == 4294967295u,
	   "process.user.additionalGids");
	ok(STRV_IS(&p->args, "/bin/sh", "-c", "echo hello"), "process.args");
	ok(STRV_IS(&p->env, "PATH=/usr/bin:/bin", "TERM=xterm", "HOME=/root"), "process.env");
	ok(str_is(p->cwd, "/work"), "process.cwd");
	ok(p->has_capabilities &&
	   STRV_IS(&p->capabilities.bounding, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE") &&
	   STRV_IS(&p->capabilities.effective, "CAP_KILL") &&
	   p->capabilities.inheritable.items && p->capabilities.inheritable.len == 0 &&
	   STRV_IS(&p->capabilities.permitted, "CAP_KILL", "CAP_CHOWN") &&
	   STRV_IS(&p->capabilities.ambient, "CAP_NET_RAW"),
	   "process.capabilities: all five sets, an empty one present");
	ok(p->n_rlimits == 2 && str_is(p->rlimits[0].type, "RLIMIT_NOFILE") &&
	   p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].hard == 4096 &&
	   p->rlimits[0].soft == 1024 && p->rlimits[1].resource == RLIMIT_CORE &&
	   p->rlimits[1].hard == UINT64_MAX && p->rlimits[1].soft == 0,
	   "process.rlimits with types mapped to resources");
	ok(p->no_new_privileges && p->has_oom_score_adj && p->oom_score_adj == -500,
	   "process: noNewPrivileges, oomScoreAdj");
}

static void check_linux(const struct oci_linux *l)
{
	const struct oci_seccomp *sc = l->seccomp;

	ok(l->n_namespaces == 3 && str_is(l->namespaces[0].type, "pid") && !l->namespaces[0].path &&
	   str_is(l->namespaces[1].type, "network") &&
	   str_is(l->namespaces[1].path, "/var/run/netns/test") &&
	   str_is(l->namespaces[2].type, "mount"), "linux.namespaces");
	ok(l->n_devices == 2 && str_is(l->devices[0].path, "/dev/fuse") && l->devices[0].type == 'c' &&
	   l->devices[0].major == 10 && l->devices[0].minor == 229 && l->devices[0].has_file_mode &&
	   l->devices[0].file_mode == 0666 && l->devices[0].has_uid && l->devices[0].has_gid &&
	   l->devices[1].type == 'b' && l->devices[1].major == 8 && !l->devices[1].has_file_mode,
	   "linux.devices");
	ok(l->n_sysctl == 2 && str_is(l->sysctl[0].key, "net.ipv4.ip_forward") &&
	   str_is(l->sysctl[0].value, "1") && str_is(l->sysctl[1].key, "kernel.shmmax") &&
	   str_is(l->sysctl[1].value, "4096"), "linux.sysctl in document order");
	ok(sc && sc->default_action == OCI_SECCOMP_ERRNO && sc->has_default_errno_ret &&
	   sc->default_errno_ret == 38 &&
	   STRV_IS(&sc->architectures, "SCMP_ARCH_X86_64", "SCMP_ARCH_X86") &&
	   STRV_IS(&sc->flags, "SECCOMP_FILTER_FLAG_LOG"),
	   "linux.seccomp: default action, errno, architectures, flags");
	if (!sc)
		return;
	ok(sc->n_syscalls == 3 && STRV_IS(&sc->syscalls[0].names, "read", "write", "exit_group") &&
	   sc->syscalls[0].action == OCI_SECCOMP_ALLOW && !sc->syscalls[0].has_errno_ret &&
	   sc->syscalls[0].n_args == 0, "linux.seccomp.syscalls[0]");
	ok(sc->n_syscalls == 3 && sc->syscalls[1].n_args == 2 &&
	   sc->syscalls[1].args[0].index == 0 && sc->syscalls[1].args[0].value == 8 &&
	   sc->syscalls[1].args[0].op == OCI_SECCOMP_CMP_EQ &&
	   sc->syscalls[1].args[1].index == 1 && sc->syscalls[1].args[1].value == UINT64_MAX &&
	   sc->syscalls[1].args[1].value_two == 255 &&
	   sc->syscalls[1].args[1].op == OCI_SECCOMP_CMP_MASKED_EQ,
	   "linux.seccomp.syscalls[1].args: index, value, valueTwo, op");
	ok(sc->n_syscalls == 3 && sc->syscalls[2].action == OCI_SECCOMP_ERRNO &&
	   sc->syscalls[2].has_errno_ret && sc->syscalls[2].errno_ret == 1,
	   "linux.seccomp.syscalls[2].errnoRet");
	ok(strcmp(oci_seccomp_action_name(sc->default_action), "SCMP_ACT_ERRNO") == 0 &&
	   strcmp(oci_seccomp_op_name(OCI_SECCOMP_CMP_MASKED_EQ), "SCMP_CMP_MASKED_EQ") == 0,
	   "seccomp names map back");
	ok(STRV_IS(&l->masked_paths, "/proc/kcore", "/sys/firmware") &&
	   STRV_IS(&l->readonly_paths, "/proc/sys") && str_is(l->cgroups_path, "/novm/test"),
	   "linux: maskedPaths, readonlyPaths, cgroupsPath");
	ok(l->resources.has_memory_limit && l->resources.memory_limit == 536870912 &&
	   l->resources.has_cpu_quota && l->resources.cpu_quota == 150000 &&
	   l->resources.has_cpu_period && l->resources.cpu_period == 100000 &&
	   l->resources.has_cpu_shares && l->resources.cpu_shares == 1024 &&
	   str_is(l->resources.cpus, "0-3"), "linux.resources: memory and cpu");

	const struct oci_device_rule *d = l->resources.devices;
	ok(l->resources.n_devices == 5 && !d[0].allow && d[0].type == 'a' &&
	   d[0].major == OCI_DEVICE_ANY && d[0].minor == OCI_DEVICE_ANY &&
	   d[0].access == OCI_DEVICE_ACCESS_ALL, "linux.resources.devices[0]: deny all");
	ok(l->resources.n_devices == 5 && d[1].allow && d[1].type == 'c' && d[1].major == 1 &&
	   d[1].minor == 3 && d[1].access == (OCI_DEVICE_ACCESS_READ | OCI_DEVICE_ACCESS_WRITE),
	   "linux.resources.devices[1]: c 1:3 rw");
	ok(l->resources.n_devices == 5 && d[2].major == 136 && d[2].minor == OCI_DEVICE_ANY &&
	   d[3].type == 'b' && !d[3].allow && d[3].major == OCI_DEVICE_ANY && d[3].minor == 5 &&
	   d[3].access == OCI_DEVICE_ACCESS_MKNOD,
	   "linux.resources.devices: null and -1 are wildcards, access m");
	ok(l->resources.n_devices == 5 && d[4].allow && d[4].type == 'a' &&
	   d[4].major == OCI_DEVICE_ANY && d[4].access == OCI_DEVICE_ACCESS_ALL,
	   "linux.resources.devices: type, numbers and access default to a, *, rwm");
}

static void test_full_config(void)
{
	const char *srcdir = getenv("srcdir");
	cleanup_free char *fixture = NULL, *text = NULL, *rootfs = NULL;
	novm_error_t err = NULL;
	struct oci_spec *spec = NULL;
	const struct oci_vm *vm;

	if (asprintf(&fixture, "%s/tests/unit/data/oci/full-config.json", srcdir ? srcdir : ".") < 0 ||
	    read_file(fixture, &text, NULL, &err) < 0) {
		ok(0, "fixture readable: %s", err ? err->msg : "");
		novm_error_release(&err);
		return;
	}
	make_bundle();
	write_config(text);
	ok(oci_spec_load(bundle, &spec, &err) == 0, "full config loads%s%s", err ? ": " : "",
	   err ? err->msg : "");
	novm_error_release(&err);
	if (!spec)
		return;
	rootfs = realpath(bundle, NULL);
	ok(str_is(spec->bundle, rootfs), "bundle made absolute");
	free(rootfs);
	if (asprintf(&rootfs, "%s/rootfs", spec->bundle) < 0)
		exit(99);
	ok(str_is(spec->oci_version, "1.2.0"), "ociVersion");
	ok(str_is(spec->root.path, rootfs) && spec->root.readonly,
	   "root: relative path resolved against the bundle, readonly");
	check_process(&spec->process);
	ok(str_is(spec->hostname, "full-test") && str_is(spec->domainname, "example.org"),
	   "hostname, domainname");
	ok(spec->n_mounts == 2 && str_is(spec->mounts[0].destination, "/proc") &&
	   str_is(spec->mounts[0].type, "proc") && str_is(spec->mounts[0].source, "proc") &&
	   !spec->mounts[0].options.items && str_is(spec->mounts[1].destination, "/data") &&
	   str_is(spec->mounts[1].type, "bind") && str_is(spec->mounts[1].source, "/srv/data") &&
	   STRV_IS(&spec->mounts[1].options, "rbind", "ro"), "mounts");
	ok(spec->hooks.prestart.len == 1 &&
	   str_is(spec->hooks.prestart.hooks[0].path, "/usr/bin/fix-mounts") &&
	   STRV_IS(&spec->hooks.prestart.hooks[0].args, "fix-mounts", "a") &&
	   STRV_IS(&spec->hooks.prestart.hooks[0].env, "X=1") &&
	   !spec->hooks.prestart.hooks[0].has_timeout && spec->hooks.poststop.len == 1 &&
	   spec->hooks.poststop.hooks[0].has_timeout && spec->hooks.poststop.hooks[0].timeout == 10 &&
	   spec->hooks.create_runtime.len == 0, "hooks");
	ok(spec->n_annotations == 3 && str_is(spec->annotations[0].key, "com.example.key1") &&
	   str_is(spec->annotations[1].key, "org.novm.cpus") &&
	   str_is(spec->annotations[2].value, "value2") &&
	   str_is(oci_spec_annotation(spec, "org.novm.cpus"), "3") &&
	   !oci_spec_annotation(spec, "nope"), "annotations: ordered list and lookup");
	ok(spec->has_linux, "linux present");
	check_linux(&spec->linux_);
	vm = spec->vm;
	ok(vm && str_is(vm->hypervisor_path, "/usr/bin/novm") &&
	   STRV_IS(&vm->hypervisor_parameters, "--debug") &&
	   str_is(vm->kernel_path, "/var/lib/novm/kernels/default/vmlinuz") &&
	   STRV_IS(&vm->kernel_parameters, "quiet", "loglevel=3") &&
	   str_is(vm->kernel_initrd, "/var/lib/novm/initrd.img") &&
	   str_is(vm->image_path, "/var/lib/novm/rootfs.img") && str_is(vm->image_format, "raw") &&
	   vm->has_vcpus && vm->vcpus == 2 && vm->has_memory && vm->memory == 1073741824,
	   "vm: hypervisor, kernel, image, hwConfig");
	ok(spec->text && spec->text_len == strlen(text) && !strcmp(spec->text, text),
	   "the text read is kept with the spec");

	/* What the runtime forwards, the guest reads without the bundle. */
	struct oci_spec *guest = NULL;
	ok(oci_spec_parse(NULL, spec->text, spec->text_len, &guest, &err) == 0 && !guest->bundle &&
	   str_is(guest->root.path, "rootfs") && guest->n_mounts == spec->n_mounts &&
	   guest->hooks.poststop.len == 1 && guest->n_annotations == 3 && guest->vm,
	   "the same text parses bundle-less%s%s", err ? ": " : "", err ? err->msg : "");
	novm_error_release(&err);
	oci_spec_free(guest);
	oci_spec_free(spec);
	remove_tree(bundle, NULL);
}

/* Loads config `text` from a fresh bundle and compares the error with
 * "bundle <dir>: <want>", where "@B" in want stands for the bundle's
 * absolute path. */
static void expect_error(const char *text, const char *want, const char *what)
{
	novm_error_t err = NULL;
	struct oci_spec *spec = NULL;
	cleanup_free char *expected = NULL, *tail = NULL, *real = NULL;

	make_bundle();
	real = realpath(bundle, NULL);
	const char *at = strstr(want, "@B");

	if ((at ? asprintf(&tail, "%.*s%s%s", (int)(at - want), want, real, at + 2)
		: asprintf(&tail, "%s", want)) < 0 ||
	    asprintf(&expected, "bundle %s: %s", bundle, tail) < 0)
		exit(99);
	if (text)
		write_config(text);
	int r = oci_spec_load(bundle, &spec, &err);
	ok(r < 0 && !spec && err && strcmp(err->msg, expected) == 0, "%s: %s", what,
	   err ? err->msg : "(loaded)");
	if (err && strcmp(err->msg, expected) != 0)
		printf("#   expected: %s\n", expected);
	oci_spec_free(spec);
	novm_error_release(&err);
	remove_tree(bundle, NULL);
}

#define V "\"ociVersion\": \"1.0.2\""
#define ROOT "\"root\": {\"path\": \"rootfs\"}"
#define PROC "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"
#define CONFIG(...) "{" V ", " ROOT ", " PROC ", " __VA_ARGS__ "}"
#define WITH_PROCESS(...) "{" V ", " ROOT ", \"process\": {" __VA_ARGS__ "}}"
#define WITH_LINUX(...) CONFIG("\"linux\": {" __VA_ARGS__ "}")

static void test_bad_bundles(void)
{
	expect_error(NULL, "config.json: No such file or directory", "no config.json");
	expect_error("{\"ociVersion\": \"1.0.0\",\n  \"process\": {\"args\": [sh]}}",
		     "config.json: invalid JSON at line 2, column 24: lexical error: invalid char in json text",
		     "invalid JSON with position");
	expect_error("[1, 2]", "config.json: expected an object", "top level not an object");
	expect_error("{" ROOT ", " PROC "}", "config.json: ociVersion: missing", "ociVersion missing");
	expect_error("{\"ociVersion\": \"2.0.0\", " ROOT ", " PROC "}",
		     "config.json: ociVersion: unsupported version \"2.0.0\" (novm reads 1.x.y)",
		     "unknown major version");
	expect_error("{\"ociVersion\": \"10.1.0\", " ROOT ", " PROC "}",
		     "config.json: ociVersion: unsupported version \"10.1.0\" (novm reads 1.x.y)",
		     "major 10 is not 1");
	expect_error("{" V ", " PROC "}", "config.json: root: missing", "root missing");
	expect_error("{" V ", \"root\": {\"readonly\": true}, " PROC "}",
		     "config.json: root.path: missing", "root.path missing");
	expect_error("{" V ", \"root\": {\"path\": \"nope\"}, " PROC "}",
		     "config.json: root.path: @B/nope: No such file or directory", "rootfs missing");
	expect_error("{" V ", \"root\": {\"path\": \"config.json\"}, " PROC "}",
		     "config.json: root.path: @B/config.json: not a directory",
		     "rootfs not a directory");
	expect_error("{" V ", " ROOT "}", "config.json: process: missing", "process missing");
	expect_error(WITH_PROCESS("\"cwd\": \"/\""), "config.json: process.args: missing",
		     "process.args missing");
	expect_error(WITH_PROCESS("\"args\": [], \"cwd\": \"/\""),
		     "config.json: process.args: must name the program to run", "process.args empty");
	expect_error(WITH_PROCESS("\"args\": [\"sh\", 1], \"cwd\": \"/\""),
		     "config.json: process.args: expected an array of strings",
		     "process.args not strings");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"work\""),
		     "config.json: process.cwd: must be an absolute path, not \"work\"",
		     "process.cwd relative");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"]"), "config.json: process.cwd: missing",
		     "process.cwd missing");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": "
				  "[{\"type\": \"RLIMIT_FOO\", \"hard\": 1, \"soft\": 1}]"),
		     "config.json: process.rlimits[0].type: unknown rlimit type \"RLIMIT_FOO\"",
		     "unknown rlimit type");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": "
				  "[{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 1},"
				  " {\"type\": \"RLIMIT_NOFILE\", \"hard\": 2, \"soft\": 2}]"),
		     "config.json: process.rlimits[1]: RLIMIT_NOFILE given twice", "repeated rlimit");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": "
				  "[{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 2}]"),
		     "config.json: process.rlimits[0]: soft limit 2 above hard limit 1",
		     "soft above hard");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"/\", \"capabilities\": "
				  "{\"bounding\": [\"CAP_KILL\", \"CAP_FOO\"]}"),
		     "config.json: process.capabilities.bounding: unknown capability \"CAP_FOO\"",
		     "capability libcap does not know");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"/\", \"capabilities\": "
				  "{\"ambient\": [\"cap_kill\"]}"),
		     "config.json: process.capabilities.ambient: unknown capability \"cap_kill\"",
		     "capability not spelled as in the spec");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": -1}"),
		     "config.json: process.user.uid: expected a non-negative integer, not -1",
		     "negative uid");
	expect_error(WITH_PROCESS("\"args\": [\"sh\"], \"cwd\": \"/\", \"oomScoreAdj\": 1001"),
		     "config.json: process.oomScoreAdj: 1001 outside -1000..1000", "oomScoreAdj range");
	expect_error(CONFIG("\"hostname\": 5"), "config.json: hostname: expected a string",
		     "hostname type");
	expect_error(CONFIG("\"mounts\": [{\"type\": \"proc\"}]"),
		     "config.json: mounts[0].destination: missing", "mount without destination");
	expect_error(CONFIG("\"hooks\": {\"poststart\": [{\"path\": \"hook\"}]}"),
		     "config.json: hooks.poststart[0].path: must be an absolute path, not \"hook\"",
		     "relative hook path");
	expect_error(CONFIG("\"annotations\": {\"a.b\": 1}"),
		     "config.json: annotations[\"a.b\"]: expected a string", "annotation not a string");
	expect_error(WITH_LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_FOO\"}"),
		     "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"",
		     "unknown seccomp default action");
	expect_error(WITH_LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
				"[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOPE\"}]}"),
		     "config.json: linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_NOPE\"",
		     "unknown seccomp syscall action");
	expect_error(WITH_LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
				"[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
				"[{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}"),
		     "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is not a syscall argument (0..5)",
		     "seccomp argument index");
	expect_error(WITH_LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
				"[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
				"[{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_XX\"}]}]}"),
		     "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_XX\"",
		     "seccomp operator");
	expect_error(WITH_LINUX("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]"),
		     "config.json: linux.namespaces[1]: namespace \"pid\" given twice",
		     "repeated namespace");
	expect_error(WITH_LINUX("\"namespaces\": [{\"type\": \"pids\"}]"),
		     "config.json: linux.namespaces[0].type: unknown namespace type \"pids\"",
		     "unknown namespace");
	expect_error(WITH_LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1}]"),
		     "config.json: linux.devices[0].minor: missing", "device without minor");
	expect_error(WITH_LINUX("\"resources\": {\"devices\": [{\"access\": \"rwm\"}]}"),
		     "config.json: linux.resources.devices[0].allow: missing", "device rule without allow");
	expect_error(WITH_LINUX("\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"u\"}]}"),
		     "config.json: linux.resources.devices[0].type: unknown device type \"u\" (a, c or b)",
		     "device rule type u");
	expect_error(WITH_LINUX("\"resources\": {\"devices\": [{\"allow\": true, \"major\": -2}]}"),
		     "config.json: linux.resources.devices[0].major: -2 is not a device number "
		     "(0..4294967295, or -1 for all)", "device rule major -2");
	expect_error(WITH_LINUX("\"resources\": {\"devices\": [{\"allow\": true, \"minor\": 4294967296}]}"),
		     "config.json: linux.resources.devices[0].minor: 4294967296 is not a device number "
		     "(0..4294967295, or -1 for all)", "device rule minor above 32 bits");
	expect_error(WITH_LINUX("\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rx\"}]}"),
		     "config.json: linux.resources.devices[0].access: unknown device access \"rx\" (r, w and m)",
		     "device rule access x");
	/* -1 is unlimited; below it is refused, not read as "no limit". */
	static const char *const limits[][2] = {
		{ "\"memory\": {\"limit\": -2}", "memory.limit: -2" },
		{ "\"memory\": {\"reservation\": -3}", "memory.reservation: -3" },
		{ "\"memory\": {\"swap\": -1000}", "memory.swap: -1000" },
		{ "\"cpu\": {\"quota\": -2}", "cpu.quota: -2" },
		{ "\"pids\": {\"limit\": -5}", "pids.limit: -5" },
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		char text[256], want[256];
		snprintf(text, sizeof(text), WITH_LINUX("\"resources\": {%s}"), limits[i][0]);
		snprintf(want, sizeof(want),
			 "config.json: linux.resources.%s is not a limit (-1 for unlimited, or 0 and up)",
			 limits[i][1]);
		expect_error(text, want, limits[i][1]);
	}
	struct oci_spec *spec = NULL;
	make_bundle();
	write_config(WITH_LINUX("\"resources\": {\"memory\": {\"limit\": -1, \"swap\": -1}, "
				"\"cpu\": {\"quota\": -1}, \"pids\": {\"limit\": -1}}"));
	ok(oci_spec_load(bundle, &spec, NULL) == 0 && spec->linux_.resources.has_pids_limit &&
		   spec->linux_.resources.pids_limit == -1 && spec->linux_.resources.memory_limit == -1,
	   "-1 is unlimited for memory, swap, cpu quota and pids");
	oci_spec_free(spec);
	remove_tree(bundle, NULL);
	expect_error(WITH_LINUX("\"resources\": {\"cpu\": {\"cpus\": \"0-\"}}"),
		     "config.json: linux.resources.cpu.cpus: invalid cpuset \"0-\"", "bad cpuset");
	expect_error(CONFIG("\"vm\": {\"hwConfig\": {\"vcpus\": 0}}"),
		     "config.json: vm.hwConfig.vcpus: 0 vCPUs, novm runs 1 to 64", "hwConfig.vcpus 0");
	expect_error(CONFIG("\"vm\": {\"kernel\": {\"path\": \"vmlinuz\"}}"),
		     "config.json: vm.kernel.path: must be an absolute path, not \"vmlinuz\"",
		     "vm.kernel.path relative");
}

static void test_repeated_keys(void)
{
	novm_error_t err = NULL;
	struct oci_spec *spec = NULL;

	make_bundle();
	write_config(CONFIG("\"annotations\": {\"a\": \"1\", \"b\": \"2\", \"a\": \"3\"}, "
			    "\"hostname\": \"first\", \"hostname\": \"last\""));
	ok(oci_spec_load(bundle, &spec, &err) == 0 && spec->n_annotations == 2 &&
	   str_is(spec->annotations[0].key, "a") && str_is(spec->annotations[0].value, "3") &&
	   str_is(spec->annotations[1].key, "b") && str_is(oci_spec_annotation(spec, "a"), "3") &&
	   str_is(spec->hostname, "last"),
	   "a repeated key keeps its first place and takes the last value (Go's decoder)");
	oci_spec_free(spec);
	novm_error_release(&err);
	remove_tree(bundle, NULL);
}

static void test_root_resolution(void)
{
	novm_error_t err = NULL;
	struct oci_spec *spec = NULL;
	cleanup_free char *cwd = get_current_dir_name(), *want = NULL, *real = NULL;
	const char *name;

	make_bundle();
	real = realpath(bundle, NULL);
	if (asprintf(&want, "%s/rootfs", real) < 0)
		exit(99);
	write_config("{" V ", \"root\": {\"path\": \"./rootfs/\"}, " PROC "}");
	/* the bundle named relative to the working directory, as runc's
	 * default "." is */
	name = strrchr(bundle, '/') + 1;
	if (chdir("/tmp") < 0)
		exit(99);
	ok(oci_spec_load(name, &spec, &err) == 0 && str_is(spec->root.path, want) &&
	   str_is(spec->bundle, real) && !spec->root.readonly,
	   "relative bundle and ./rootfs/ resolve to %s (%s)", want, spec ? spec->root.path : err->msg);
	oci_spec_free(spec);
	spec = NULL;
	novm_error_release(&err);
	if (chdir(cwd) < 0)
		exit(99);

	write_config("{" V ", \"root\": {\"path\": \"/tmp\"}, " PROC "}");
	ok(oci_spec_load(bundle, &spec, &err) == 0 && str_is(spec->root.path, "/tmp"),
	   "absolute root.path kept");
	oci_spec_free(spec);
	novm_error_release(&err);
	remove_tree(bundle, NULL);
}

/* The guest agent's entry point: a config inside a larger document, no
 * bundle on this machine. */
static void test_from_node(void)
{
	const char *text = "{\"config\": {\"root\": {\"path\": \"rootfs-that-is-not-here\"}, "
			   "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}},"
			   " \"bad\": {\"process\": {\"args\": [\"sh\"], \"cwd\": \"tmp\"}},"
			   " \"bare\": {\"process\": {\"args\": [\"true\"], \"cwd\": \"/\"}}}";
	struct json_doc *doc = NULL;
	struct json_node root, node;
	struct oci_spec *spec = NULL;
	novm_error_t err = NULL;

	if (json_doc_parse("CONFIG", text, strlen(text), &doc, &err) < 0) {
		ok(0, "document parsed: %s", err->msg);
		return;
	}
	json_doc_root(doc, &root);
	json_member(&root, "config", &node);
	ok(oci_spec_from_node(&node, &spec, &err) == 0 && !spec->bundle && !spec->oci_version &&
	   str_is(spec->root.path, "rootfs-that-is-not-here") && STRV_IS(&spec->process.args, "sh"),
	   "bundle-less: root.path as written, not looked up; ociVersion optional");
	oci_spec_free(spec);
	spec = NULL;
	json_member(&root, "bare", &node);
	ok(oci_spec_from_node(&node, &spec, &err) == 0 && !spec->root.path, "bundle-less: root optional");
	oci_spec_free(spec);
	spec = NULL;
	json_member(&root, "bad", &node);
	ok(oci_spec_from_node(&node, &spec, &err) < 0 && !spec && err &&
	   strcmp(err->msg, "CONFIG: bad.process.cwd: must be an absolute path, not \"tmp\"") == 0,
	   "bundle-less: other checks still apply, the path names the node: %s",
	   err ? err->msg : "");
	novm_error_release(&err);
	json_doc_free(doc);
}

/* The text entry point without a bundle: what the guest agent is sent
 * comes from the host, so hostile documents fail with an error, never a
 * crash, and nothing on this machine is looked at. */
static void test_parse_text(void)
{
	static const char good[] =
		"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/not/here\"},"
		" \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"},"
		" \"mounts\": [{\"destination\": \"/tmp\", \"type\": \"tmpfs\"}]}trailing";
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "", "config.json: invalid JSON" },
		{ "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/", "invalid JSON" },
		{ "{\"process\": {\"args\": [\"sh\"]", "premature EOF" },
		{ "[]", "config.json: expected an object" },
		{ "null", "expected an object" },
		{ "\"config\"", "expected an object" },
		{ "{\"ociVersion\": 1, \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}",
		  "ociVersion" },
		{ "{\"ociVersion\": \"2.0.0\", \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}",
		  "unsupported version" },
		{ "{\"root\": \"rootfs\", \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}",
		  "root: expected an object" },
		{ "{\"root\": {\"readonly\": true}, \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}",
		  "root.path: missing" },
		{ "{\"root\": {\"path\": \"\"}, \"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}",
		  "root.path: must not be empty" },
		{ "{\"process\": {\"args\": \"sh\", \"cwd\": \"/\"}}", "process.args" },
		{ "{\"process\": {\"args\": [1], \"cwd\": \"/\"}}", "process.args" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\", \"user\": {\"uid\": -1}}}",
		  "process.user.uid" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}, \"mounts\": {}}",
		  "mounts: expected an array" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}, \"mounts\": [7]}",
		  "mounts[0]: expected an object" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"mounts\": [{\"destination\": \"tmp\"}]}",
		  "mounts[0].destination: must be an absolute path, not \"tmp\"" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"hooks\": {\"prestart\": [{\"path\": \"rel\"}]}}",
		  "hooks.prestart[0].path" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}, \"annotations\": {\"a\": 1}}",
		  "annotations.a" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"},"
		  " \"vm\": {\"kernel\": {\"path\": \"vmlinuz\"}}}",
		  "vm.kernel.path" },
		{ "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}, \"linux\": []}", "linux" },
	};
	novm_error_t err = NULL;
	struct oci_spec *spec = NULL;
	int r;

	/* len stops before the trailing garbage: the text need not end there. */
	r = oci_spec_parse(NULL, good, strlen(good) - strlen("trailing"), &spec, &err);
	ok(r == 0 && !spec->bundle && str_is(spec->root.path, "/not/here") && spec->n_mounts == 1 &&
	   spec->text_len == strlen(good) - strlen("trailing") && spec->text[spec->text_len] == '\0',
	   "bundle-less text: parsed, root.path as written, text kept and terminated%s%s",
	   err ? ": " : "", err ? err->msg : "");
	novm_error_release(&err);
	oci_spec_free(spec);
	spec = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = oci_spec_parse(NULL, bad[i].text, strlen(bad[i].text), &spec, &err);
		ok(r < 0 && !spec && err && strstr(err->msg, bad[i].want) &&
		   !strstr(err->msg, "bundle"), "bad text %zu fails naming \"%s\": %s", i, bad[i].want,
		   err ? err->msg : "(accepted)");
		oci_spec_free(spec);
		spec = NULL;
		novm_error_release(&err);
	}

	/* A NUL inside the given length is not the end of the document. */
	static const char nul[] = "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}}\0{";
	r = oci_spec_parse(NULL, nul, sizeof(nul) - 1, &spec, &err);
	ok(r < 0 && !spec && err && strstr(err->msg, "invalid JSON"), "a NUL inside the text: %s",
	   err ? err->msg : "(accepted)");
	novm_error_release(&err);

	/* Nesting past JSON_MAX_DEPTH is refused before the tree is built. */
	cleanup_free char *deep = malloc(2 * (JSON_MAX_DEPTH + 10) + 1);
	size_t n = 0;
	for (int i = 0; i < JSON_MAX_DEPTH + 10; i++)
		deep[n++] = '[';
	for (int i = 0; i < JSON_MAX_DEPTH + 10; i++)
		deep[n++] = ']';
	r = oci_spec_parse(NULL, deep, n, &spec, &err);
	ok(r < 0 && !spec && err, "nesting past the limit refused: %s", err ? err->msg : "(accepted)");
	novm_error_release(&err);

	/* Huge arrays: every entry is read (or the first bad one named), and
	 * all of it freed (--enable-sanitizers checks). */
	enum { HUGE = 100000 };
	cleanup_free char *huge = malloc(64 + HUGE * 24);
	n = (size_t)sprintf(huge, "{\"process\": {\"args\": [\"x\"], \"cwd\": \"/\"}, \"mounts\": [");
	for (int i = 0; i < HUGE; i++)
		n += (size_t)sprintf(huge + n, "%s{\"destination\":\"/m\"}", i ? "," : "");
	n += (size_t)sprintf(huge + n, "]}");
	r = oci_spec_parse(NULL, huge, n, &spec, &err);
	ok(r == 0 && spec->n_mounts == HUGE && str_is(spec->mounts[HUGE - 1].destination, "/m"),
	   "%d mounts read%s%s", HUGE, err ? ": " : "", err ? err->msg : "");
	novm_error_release(&err);
	oci_spec_free(spec);
	spec = NULL;
	huge[n - strlen("/m\"}]}")] = 'x';	/* the last destination becomes "xm" */
	r = oci_spec_parse(NULL, huge, n, &spec, &err);
	ok(r < 0 && !spec && err && strstr(err->msg, "mounts[99999].destination"),
	   "a bad entry at the end of a huge array is named: %s", err ? err->msg : "(accepted)");
	novm_error_release(&err);

	n = (size_t)sprintf(huge, "{\"process\": {\"args\": [");
	for (int i = 0; i < HUGE; i++)
		n += (size_t)sprintf(huge + n, "%s\"a\"", i ? "," : "");
	n += (size_t)sprintf(huge + n, ", 5], \"cwd\": \"/\"}}");
	r = oci_spec_parse(NULL, huge, n, &spec, &err);
	ok(r < 0 && !spec && err && strstr(err->msg, "process.args"),
	   "a huge args array with a number in it: %s", err ? err->msg : "(accepted)");
	novm_error_release(&err);
}

static void test_default_spec(void)
{
	novm_error_t err = NULL;
	struct oci_spec *spec = NULL;
	cleanup_free char *before = NULL, *after = NULL, *path = NULL, *want_root = NULL;

	make_bundle();
	if (asprintf(&path, "%s/config.json", bundle) < 0)
		exit(99);
	ok(oci_write_default_spec(bundle, &err) == 0, "default spec written");
	novm_error_release(&err);
	ok(read_file(path, &before, NULL, &err) == 0 && strncmp(before, "{\n\t\"ociVersion\": ", 17) == 0 &&
	   before[strlen(before) - 1] == '\n', "tab-indented like runc's, ends in a newline");
	ok(oci_write_default_spec(bundle, &err) < 0 && err &&
	   strcmp(err->msg, "File config.json exists. Remove it first") == 0,
	   "refuses to overwrite: %s", err ? err->msg : "(overwrote)");
	novm_error_release(&err);
	ok(read_file(path, &after, NULL, &err) == 0 && before && strcmp(before, after) == 0,
	   "existing config.json untouched");

	ok(oci_spec_load(bundle, &spec, &err) == 0, "default spec loads back%s%s",
	   err ? ": " : "", err ? err->msg : "");
	novm_error_release(&err);
	if (!spec)
		goto out;
	if (asprintf(&want_root, "%s/rootfs", spec->bundle) < 0)
		exit(99);
	ok(str_is(spec->oci_version, OCI_SPEC_VERSION) && str_is(spec->root.path, want_root) &&
	   spec->root.readonly && str_is(spec->hostname, "novm"), "version, root, hostname");
	ok(spec->process.terminal && STRV_IS(&spec->process.args, "sh") &&
	   STRV_IS(&spec->process.env,
		   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm") &&
	   str_is(spec->process.cwd, "/") && spec->process.user.uid == 0 &&
	   spec->process.no_new_privileges, "process: terminal, sh, env, cwd, root user, nnp");
	ok(spec->process.has_capabilities &&
	   STRV_IS(&spec->process.capabilities.bounding, "CAP_AUDIT_WRITE", "CAP_KILL",
		   "CAP_NET_BIND_SERVICE") &&
	   STRV_IS(&spec->process.capabilities.effective, "CAP_AUDIT_WRITE", "CAP_KILL",
		   "CAP_NET_BIND_SERVICE") &&
	   STRV_IS(&spec->process.capabilities.permitted, "CAP_AUDIT_WRITE", "CAP_KILL",
		   "CAP_NET_BIND_SERVICE") && !spec->process.capabilities.ambient.items,
	   "default capability set");
	ok(spec->process.n_rlimits == 1 && spec->process.rlimits[0].resource == RLIMIT_NOFILE &&
	   spec->process.rlimits[0].hard == 1024 && spec->process.rlimits[0].soft == 1024,
	   "RLIMIT_NOFILE 1024");
	ok(spec->n_mounts == 7 && str_is(spec->mounts[0].destination, "/proc") &&
	   !spec->mounts[0].options.items && str_is(spec->mounts[2].destination, "/dev/pts") &&
	   STRV_IS(&spec->mounts[2].options, "nosuid", "noexec", "newinstance", "ptmxmode=0666",
		   "mode=0620", "gid=5") &&
	   str_is(spec->mounts[6].destination, "/sys/fs/cgroup") &&
	   str_is(spec->mounts[6].type, "cgroup"), "the seven default mounts");
	ok(spec->has_linux && spec->linux_.n_namespaces == 6 &&
	   str_is(spec->linux_.namespaces[0].type, "pid") &&
	   str_is(spec->linux_.namespaces[5].type, "cgroup"), "namespaces");
	ok(spec->linux_.masked_paths.len == 10 && spec->linux_.readonly_paths.len == 5 &&
	   str_is(spec->linux_.masked_paths.items[9], "/proc/scsi") &&
	   str_is(spec->linux_.readonly_paths.items[4], "/proc/sysrq-trigger"),
	   "maskedPaths and readonlyPaths");
	ok(!spec->vm && !spec->linux_.seccomp, "no vm section, no seccomp");
	oci_spec_free(spec);
out:
	remove_tree(bundle, NULL);
	ok(oci_write_default_spec("/nonexistent-novm-dir", &err) < 0 && err &&
	   strcmp(err->msg, "bundle /nonexistent-novm-dir: config.json: No such file or directory") == 0,
	   "missing bundle directory: %s", err ? err->msg : "");
	novm_error_release(&err);
}

int main(void)
{
	test_full_config();
	test_bad_bundles();
	test_repeated_keys();
	test_root_resolution();
	test_from_node();
	test_parse_text();
	test_default_spec();
	return tap_done();
}
