/* novm-runc features: what this runtime supports, in the runtime-spec's
 * features document (features.md), which dockerd and containerd shims read
 * at start.  The lists say what novm honours: mount options the agent
 * knows, seccomp as the agent's libseccomp filter (x86-64 guest), cgroup v2
 * for the VMM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "oci/json.h"
#include "oci/spec.h"
#include "oci/vm-size.h"
#include "pod-spec.h"
#include "runtime.h"

static const char *const mount_options[] = {
	"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime",
	"mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime",
	"nostrictatime", "nosuid", "nosymfollow", "private", "rbind", "relatime", "remount", "ro",
	"rprivate", "rshared", "rslave", "runbindable", "rw", "shared", "slave", "strictatime",
	"suid", "symfollow", "sync", "tmpcopyup", "unbindable", NULL,
};

/* The namespaces the guest gives the container: its own pid, mount and
 * cgroup namespaces, and the VM's uts (hostname) and ipc, one container per
 * VM; network: the VMM's namespace, whose links become the guest's NICs
 * (netconf.h).  Not user (ids are the ids given, see compat.h) nor time. */
static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "uts", NULL };

/* All six run on the host with the state on stdin (hooks.c). */
static const char *const hooks[] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL,
};

static const char *const capabilities[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", NULL,
};

/* SCMP_ACT_NOTIFY needs a listener on the host side: not offered. */
static const char *const seccomp_actions[] = {
	"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
	"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL,
};

static const char *const seccomp_operators[] = {
	"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
	"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL,
};

static const char *const seccomp_archs[] = { "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", NULL };

static void gen_list(struct json_gen *gen, const char *key, const char *const *items)
{
	json_gen_key(gen, key);
	json_gen_array_open(gen);
	for (; *items; items++)
		json_gen_string(gen, *items);
	json_gen_array_close(gen);
}

static void gen_enabled(struct json_gen *gen, const char *key, bool enabled)
{
	json_gen_key(gen, key);
	json_gen_object_open(gen);
	json_gen_member_bool(gen, "enabled", enabled);
	json_gen_object_close(gen);
}

static void gen_linux(struct json_gen *gen)
{
	static const char *const none[] = { NULL };

	json_gen_key(gen, "linux");
	json_gen_object_open(gen);
	gen_list(gen, "namespaces", namespaces);
	gen_list(gen, "capabilities", capabilities);
	json_gen_key(gen, "cgroup");
	json_gen_object_open(gen);
	json_gen_member_bool(gen, "v1", false);
	json_gen_member_bool(gen, "v2", true);
	json_gen_member_bool(gen, "systemd", true);
	json_gen_member_bool(gen, "systemdUser", false);
	json_gen_member_bool(gen, "rdma", false);
	json_gen_object_close(gen);
	json_gen_key(gen, "seccomp");
	json_gen_object_open(gen);
	json_gen_member_bool(gen, "enabled", true);
	gen_list(gen, "actions", seccomp_actions);
	gen_list(gen, "operators", seccomp_operators);
	gen_list(gen, "archs", seccomp_archs);
	gen_list(gen, "knownFlags", none);
	gen_list(gen, "supportedFlags", none);
	json_gen_object_close(gen);
	gen_enabled(gen, "apparmor", false);
	gen_enabled(gen, "selinux", false);
	gen_enabled(gen, "intelRdt", false);
	json_gen_object_close(gen);
}

int cmd_features(const struct runtime_globals *g, int argc, char **argv)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new("    ");
	cleanup_free char *json = NULL;
	novm_error_t err = NULL;
	struct cli_parser p;
	size_t len;
	int opt;

	cli_init(&p, "features", argc, argv);
	while ((opt = cli_next(&p, NULL)) != CLI_END)
		return opt == CLI_HELP ? 0 : 1;
	if (!cli_check_args(&p, 0, 0))
		return 1;
	if (!gen) {
		novm_error(&err, ENOMEM, "features");
		return cli_fail(&err);
	}
	json_gen_object_open(gen);
	json_gen_member_string(gen, "ociVersionMin", "1.0.0");
	json_gen_member_string(gen, "ociVersionMax", OCI_SPEC_VERSION);
	gen_list(gen, "hooks", hooks);
	gen_list(gen, "mountOptions", mount_options);
	gen_linux(gen);
	json_gen_key(gen, "annotations");
	json_gen_object_open(gen);
	json_gen_member_string(gen, "org.novm.version", PACKAGE_VERSION);
	/* The CRI ones say a pod's containers share its sandbox's VM. */
	json_gen_member_string(gen, "org.novm.annotations",
			       OCI_ANNOTATION_CPUS "," OCI_ANNOTATION_MEMORY "," OCI_ANNOTATION_KERNEL
			       "," POD_ANN_CONTAINERD_TYPE "," POD_ANN_CONTAINERD_SANDBOX
			       "," POD_ANN_CRIO_TYPE "," POD_ANN_CRIO_SANDBOX);
	json_gen_member_string(gen, "org.opencontainers.runc.checkpoint.enabled", "false");
	json_gen_object_close(gen);
	json_gen_object_close(gen);
	if (json_gen_finish(gen, "features", &json, &len, &err) < 0)
		return cli_fail(&err);
	fwrite(json, 1, len, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
