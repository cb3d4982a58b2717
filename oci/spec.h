/* The OCI runtime configuration (a bundle's config.json) as our own plain
 * structs, loaded and validated in one step.  Only the fields novm uses are
 * read; unknown members are ignored, as the runtime-spec asks.
 *
 * Conventions: strings are heap copies, NULL when absent.  A string list is
 * a `struct oci_strv` whose `items` is NULL-terminated (ready for execve) or
 * NULL when the member was absent.  `has_x` tells an absent number from 0. */
#ifndef NOVM_OCI_SPEC_H
#define NOVM_OCI_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The runtime-spec version we write (`novm-runc spec`, state).  Bundles of
 * any 1.x.y are read. */
#define OCI_SPEC_VERSION "1.2.1"

struct oci_strv {
	char **items;
	size_t len;
};

/* An ordered key/value list (annotations, sysctl): document order kept. */
struct oci_kv {
	char *key;
	char *value;
};

struct oci_root {
	char *path;	/* absolute: a relative config path is resolved against the bundle */
	bool readonly;
};

struct oci_user {
	uint32_t uid, gid;
	bool has_umask;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
};

struct oci_rlimit {
	char *type;		/* "RLIMIT_NOFILE" */
	int resource;		/* RLIMIT_NOFILE: the setrlimit() resource */
	uint64_t hard, soft;
};

/* Capability names as written ("CAP_KILL"), each checked against libcap. */
struct oci_capabilities {
	struct oci_strv bounding, effective, inheritable, permitted, ambient;
};

struct oci_process {
	bool terminal;
	bool has_console_size;
	uint32_t console_height, console_width;
	struct oci_user user;
	struct oci_strv args;	/* at least one entry */
	struct oci_strv env;
	char *cwd;		/* absolute */
	bool has_capabilities;
	struct oci_capabilities capabilities;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
};

struct oci_mount {
	char *destination;
	char *type;
	char *source;
	struct oci_strv options;
};

struct oci_hook {
	char *path;
	struct oci_strv args, env;
	bool has_timeout;
	int timeout;		/* seconds, > 0 */
};

struct oci_hook_list {
	struct oci_hook *hooks;
	size_t len;
};

struct oci_hooks {
	struct oci_hook_list prestart, create_runtime, create_container, start_container,
		poststart, poststop;
};

struct oci_namespace {
	char *type;		/* pid, network, mount, ipc, uts, user, cgroup, time */
	char *path;		/* NULL: a new namespace */
};

struct oci_device {
	char *path;
	char type;		/* 'c', 'b', 'u' or 'p' */
	int64_t major, minor;
	bool has_file_mode, has_uid, has_gid;
	uint32_t file_mode, uid, gid;
};

enum oci_seccomp_action {
	OCI_SECCOMP_KILL,
	OCI_SECCOMP_KILL_PROCESS,
	OCI_SECCOMP_KILL_THREAD,
	OCI_SECCOMP_TRAP,
	OCI_SECCOMP_ERRNO,
	OCI_SECCOMP_TRACE,
	OCI_SECCOMP_ALLOW,
	OCI_SECCOMP_LOG,
	OCI_SECCOMP_NOTIFY,
};

enum oci_seccomp_op {
	OCI_SECCOMP_CMP_NE,
	OCI_SECCOMP_CMP_LT,
	OCI_SECCOMP_CMP_LE,
	OCI_SECCOMP_CMP_EQ,
	OCI_SECCOMP_CMP_GE,
	OCI_SECCOMP_CMP_GT,
	OCI_SECCOMP_CMP_MASKED_EQ,
};

struct oci_seccomp_arg {
	uint32_t index;
	uint64_t value, value_two;
	enum oci_seccomp_op op;
};

struct oci_seccomp_syscall {
	struct oci_strv names;
	enum oci_seccomp_action action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	enum oci_seccomp_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	struct oci_strv architectures;	/* "SCMP_ARCH_X86_64" */
	struct oci_strv flags;
	struct oci_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

/* linux.resources.devices: one device cgroup rule.  The last rule that
 * matches a device and an access decides (runtime-spec, cgroup v1). */
#define OCI_DEVICE_ANY (-1)		/* major or minor: every number */
#define OCI_DEVICE_ACCESS_READ 1u
#define OCI_DEVICE_ACCESS_WRITE 2u
#define OCI_DEVICE_ACCESS_MKNOD 4u
#define OCI_DEVICE_ACCESS_ALL 7u

struct oci_device_rule {
	bool allow;
	char type;		/* 'a' (all, the default), 'c' or 'b' */
	int64_t major, minor;	/* 0..UINT32_MAX or OCI_DEVICE_ANY (absent, null) */
	unsigned access;	/* OCI_DEVICE_ACCESS_*; absent or "" is all of them */
};

struct oci_resources {
	/* Each limit is -1 (unlimited) or more; parsing refuses below -1. */
	bool has_memory_limit, has_memory_reservation, has_memory_swap, has_pids_limit;
	int64_t memory_limit;	/* bytes; -1 is unlimited */
	int64_t memory_reservation, memory_swap;	/* bytes */
	int64_t pids_limit;
	bool has_cpu_quota, has_cpu_period, has_cpu_shares;
	int64_t cpu_quota;	/* microseconds per period; -1 is unlimited */
	uint64_t cpu_period;	/* microseconds */
	uint64_t cpu_shares;
	char *cpus;		/* cpuset list, "0-3,6" */
	struct oci_device_rule *devices;
	size_t n_devices;
};

struct oci_linux {
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_device *devices;
	size_t n_devices;
	struct oci_kv *sysctl;
	size_t n_sysctl;
	struct oci_seccomp *seccomp;	/* NULL: no filter */
	struct oci_strv masked_paths, readonly_paths;
	char *cgroups_path;
	struct oci_resources resources;
};

/* The runtime-spec `vm` section (config-vm.md).  Kernel, initrd, image and
 * hypervisor paths must be absolute there. */
struct oci_vm {
	char *hypervisor_path;
	struct oci_strv hypervisor_parameters;
	char *kernel_path;
	struct oci_strv kernel_parameters;
	char *kernel_initrd;
	char *image_path;
	char *image_format;
	bool has_vcpus, has_memory;
	uint32_t vcpus;
	uint64_t memory;	/* bytes */
};

struct json_doc;

struct oci_spec {
	/* The document as parsed (NUL-terminated; NULL from a node): what the
	 * runtime forwards to the agent is what it checked. */
	char *text;
	size_t text_len;
	/* Its tree (oci/json.h; NULL from a node), for what reads members the
	 * spec leaves out, such as the runtime's compatibility warnings. */
	struct json_doc *doc;
	char *bundle;		/* absolute path of the bundle directory; NULL bundle-less */
	char *oci_version;
	struct oci_root root;
	struct oci_process process;
	char *hostname;
	char *domainname;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hooks hooks;
	struct oci_kv *annotations;
	size_t n_annotations;
	bool has_linux;
	struct oci_linux linux_;	/* `linux` is a predefined macro in GNU C */
	struct oci_vm *vm;		/* NULL when the section is absent */
};

/* Reads <bundle_dir>/config.json once and validates it; spec->text keeps
 * what was read.  Every error is one line naming the bundle and the field,
 * e.g. "bundle /b: config.json: process.cwd: must be an absolute path". */
int oci_spec_load(const char *bundle_dir, struct oci_spec **out, novm_error_t *err);

/* The text entry point: config.json from len bytes of text (need not be
 * NUL-terminated; spec->text keeps a copy).  With a bundle_dir, root.path
 * is resolved against it as oci_spec_load() does; bundle_dir NULL reads
 * it bundle-less, as oci_spec_from_node() does, errors naming only
 * "config.json: <field>". */
int oci_spec_parse(const char *bundle_dir, const char *text, size_t len, struct oci_spec **out,
		   novm_error_t *err);

void oci_spec_free(struct oci_spec *spec);

/* The `hooks` of a config document, alone (runtime commands after create
 * read them from the state directory's copy).  *out zeroed first. */
int oci_hooks_parse(const char *doc_name, const char *text, size_t len, struct oci_hooks *out,
		    novm_error_t *err);
void oci_hooks_release(struct oci_hooks *hooks);
#define cleanup_oci_hooks __attribute__((cleanup(oci_hooks_release)))

/* A `process` object on its own (`exec --process`, the agent's EXEC
 * payload), checked as in config.json: errors name "process.<field>".
 * *out is zeroed first; release it with oci_process_release(), which
 * zeroes it again. */
int oci_process_parse(const char *doc_name, const char *text, size_t len, struct oci_process *out,
		      novm_error_t *err);
void oci_process_release(struct oci_process *process);

static inline void cleanup_oci_spec_fn(struct oci_spec **spec)
{
	oci_spec_free(*spec);
}
#define cleanup_oci_spec __attribute__((cleanup(cleanup_oci_spec_fn)))

/* The value of an annotation, or NULL.  Like runc, the last of duplicate
 * keys wins. */
const char *oci_spec_annotation(const struct oci_spec *spec, const char *key);

/* The linux.namespaces entry of this type ("pid", "network", ...), or
 * NULL when the spec lists none (the runtime's own namespace is used). */
const struct oci_namespace *oci_spec_namespace(const struct oci_spec *spec, const char *type);

const char *oci_seccomp_action_name(enum oci_seccomp_action action);
const char *oci_seccomp_op_name(enum oci_seccomp_op op);

void oci_strv_free(struct oci_strv *v);

/* ---- config.json inside a larger JSON document (oci/json.h nodes): for
 * the guest agent, which reads a bundle-less config and its own documents
 * built of the same parts. ---- */
struct json_node;

/* An array of objects: allocates one zeroed `elem_size` item per entry and
 * fills each with parse_item().  *out and *len are set before the items are
 * parsed, so on failure the caller's usual release frees what was read. */
int oci_parse_object_array(const struct json_node *obj, const char *key, size_t elem_size,
			   void **out, size_t *len,
			   int (*parse_item)(const struct json_node *item, void *dst,
					     novm_error_t *err),
			   novm_error_t *err);

/* Require `path` absolute; `node` names the field in the error. */
int oci_check_absolute(const struct json_node *node, const char *path, novm_error_t *err);

/* config.json read from a node of a larger document, without a bundle
 * (the guest agent's PROTO_CONFIG, where it is the member "config"):
 * ociVersion and root become optional, root.path is kept as written and
 * nothing on the filesystem is looked at, and mount destinations must be
 * absolute (the guest mounts nowhere else); every other check is the same
 * as with a bundle.  spec->bundle and spec->text are NULL. */
int oci_spec_from_node(const struct json_node *config, struct oci_spec **out,
		       novm_error_t *err);

#endif
