/* Built with the JSON generator from tables rather than kept as text, so
 * it is valid JSON by construction and each part is easy to find. */
#include "default-spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "spec.h"
#include "util.h"

#define CONFIG_NAME "config.json"

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=xterm",
	NULL,
};

static const char *const default_capabilities[] = {
	"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};

static const struct {
	const char *destination, *type, *source;
	const char *options[8];	/* NULL-terminated; none for /proc */
} default_mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
	{ "/dev/pts", "devpts", "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
	{ "/dev/shm", "tmpfs", "shm",
	  { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
	{ "/sys/fs/cgroup", "cgroup", "cgroup",
	  { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

/* Our guests run a unified cgroup hierarchy, so cgroup is always listed
 * (runc adds it only on cgroup v2 hosts). */
static const char *const default_namespaces[] = {
	"pid", "network", "ipc", "uts", "mount", "cgroup", NULL,
};

static const char *const default_masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
	"/proc/scsi", NULL,
};

static const char *const default_readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static void gen_list(struct json_gen *gen, const char *key, const char *const *items)
{
	json_gen_key(gen, key);
	json_gen_array_open(gen);
	for (; *items; items++)
		json_gen_string(gen, *items);
	json_gen_array_close(gen);
}

static void gen_process(struct json_gen *gen)
{
	json_gen_key(gen, "process");
	json_gen_object_open(gen);
	json_gen_member_bool(gen, "terminal", true);
	json_gen_key(gen, "user");
	json_gen_object_open(gen);
	json_gen_member_i64(gen, "uid", 0);
	json_gen_member_i64(gen, "gid", 0);
	json_gen_object_close(gen);
	gen_list(gen, "args", (const char *const[]){ "sh", NULL });
	gen_list(gen, "env", default_env);
	json_gen_member_string(gen, "cwd", "/");

	json_gen_key(gen, "capabilities");
	json_gen_object_open(gen);
	gen_list(gen, "bounding", default_capabilities);
	gen_list(gen, "effective", default_capabilities);
	gen_list(gen, "permitted", default_capabilities);
	json_gen_object_close(gen);

	json_gen_key(gen, "rlimits");
	json_gen_array_open(gen);
	json_gen_object_open(gen);
	json_gen_member_string(gen, "type", "RLIMIT_NOFILE");
	json_gen_member_u64(gen, "hard", 1024);
	json_gen_member_u64(gen, "soft", 1024);
	json_gen_object_close(gen);
	json_gen_array_close(gen);

	json_gen_member_bool(gen, "noNewPrivileges", true);
	json_gen_object_close(gen);
}

static void gen_mounts(struct json_gen *gen)
{
	json_gen_key(gen, "mounts");
	json_gen_array_open(gen);
	for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
		json_gen_object_open(gen);
		json_gen_member_string(gen, "destination", default_mounts[i].destination);
		json_gen_member_string(gen, "type", default_mounts[i].type);
		json_gen_member_string(gen, "source", default_mounts[i].source);
		/* like runc, no "options" member at all when there are none */
		if (default_mounts[i].options[0])
			gen_list(gen, "options", default_mounts[i].options);
		json_gen_object_close(gen);
	}
	json_gen_array_close(gen);
}

static void gen_linux(struct json_gen *gen)
{
	json_gen_key(gen, "linux");
	json_gen_object_open(gen);

	/* deny all device access by default, as runc's example does */
	json_gen_key(gen, "resources");
	json_gen_object_open(gen);
	json_gen_key(gen, "devices");
	json_gen_array_open(gen);
	json_gen_object_open(gen);
	json_gen_member_bool(gen, "allow", false);
	json_gen_member_string(gen, "access", "rwm");
	json_gen_object_close(gen);
	json_gen_array_close(gen);
	json_gen_object_close(gen);

	json_gen_key(gen, "namespaces");
	json_gen_array_open(gen);
	for (const char *const *ns = default_namespaces; *ns; ns++) {
		json_gen_object_open(gen);
		json_gen_member_string(gen, "type", *ns);
		json_gen_object_close(gen);
	}
	json_gen_array_close(gen);

	gen_list(gen, "maskedPaths", default_masked_paths);
	gen_list(gen, "readonlyPaths", default_readonly_paths);
	json_gen_object_close(gen);
}

int oci_default_spec_json(char **out, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new("\t");

	json_gen_object_open(gen);
	json_gen_member_string(gen, "ociVersion", OCI_SPEC_VERSION);
	gen_process(gen);

	json_gen_key(gen, "root");
	json_gen_object_open(gen);
	json_gen_member_string(gen, "path", "rootfs");
	json_gen_member_bool(gen, "readonly", true);
	json_gen_object_close(gen);

	json_gen_member_string(gen, "hostname", "novm");
	gen_mounts(gen);
	gen_linux(gen);
	json_gen_object_close(gen);
	return json_gen_finish(gen, CONFIG_NAME, out, len, err);
}

int oci_write_default_spec(const char *bundle_dir, novm_error_t *err)
{
	cleanup_free char *text = NULL, *path = NULL;
	cleanup_close int fd = -1;
	size_t len;

	if (oci_default_spec_json(&text, &len, err) < 0)
		return -1;
	if (asprintf(&path, "%s/%s", bundle_dir, CONFIG_NAME) < 0)
		return novm_error(err, ENOMEM, "bundle %s", bundle_dir);
	/* O_EXCL makes "never overwrite" atomic, not a check then a write */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST)
		return novm_error(err, 0, "File %s exists. Remove it first", CONFIG_NAME);
	if (fd < 0)
		return novm_error(err, errno, "bundle %s: %s", bundle_dir, CONFIG_NAME);
	if (write_all(fd, text, len) < 0 || close(steal_fd(&fd)) < 0) {
		int e = errno;

		unlink(path);
		return novm_error(err, e, "bundle %s: write %s", bundle_dir, CONFIG_NAME);
	}
	return 0;
}
