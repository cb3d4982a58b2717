/* config.json `linux`: namespaces, devices, sysctl, the seccomp filter,
 * masked/read-only paths, the resources that size the VM and the device
 * cgroup rules the agent enforces. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "spec-internal.h"
#include "vm-size.h"

static const char *const seccomp_action_names[] = {
	[OCI_SECCOMP_KILL] = "SCMP_ACT_KILL",
	[OCI_SECCOMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[OCI_SECCOMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[OCI_SECCOMP_TRAP] = "SCMP_ACT_TRAP",
	[OCI_SECCOMP_ERRNO] = "SCMP_ACT_ERRNO",
	[OCI_SECCOMP_TRACE] = "SCMP_ACT_TRACE",
	[OCI_SECCOMP_ALLOW] = "SCMP_ACT_ALLOW",
	[OCI_SECCOMP_LOG] = "SCMP_ACT_LOG",
	[OCI_SECCOMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const seccomp_op_names[] = {
	[OCI_SECCOMP_CMP_NE] = "SCMP_CMP_NE",
	[OCI_SECCOMP_CMP_LT] = "SCMP_CMP_LT",
	[OCI_SECCOMP_CMP_LE] = "SCMP_CMP_LE",
	[OCI_SECCOMP_CMP_EQ] = "SCMP_CMP_EQ",
	[OCI_SECCOMP_CMP_GE] = "SCMP_CMP_GE",
	[OCI_SECCOMP_CMP_GT] = "SCMP_CMP_GT",
	[OCI_SECCOMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const namespace_types[] = {
	"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};

/* seccomp filters compare at most the six syscall arguments */
#define SECCOMP_MAX_ARG_INDEX 5

const char *oci_seccomp_action_name(enum oci_seccomp_action action)
{
	if ((size_t)action < ARRAY_SIZE(seccomp_action_names))
		return seccomp_action_names[action];
	return "?";
}

const char *oci_seccomp_op_name(enum oci_seccomp_op op)
{
	if ((size_t)op < ARRAY_SIZE(seccomp_op_names))
		return seccomp_op_names[op];
	return "?";
}

static int name_index(const char *const *names, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(names[i], name) == 0)
			return i;
	}
	return -1;
}

/* A required string member that must be one of `names`; its index. */
static int parse_enum(const struct json_node *obj, const char *key, const char *const *names,
		      size_t count, const char *what, int *out, novm_error_t *err)
{
	struct json_node node;
	cleanup_free char *value = NULL;

	json_member(obj, key, &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &value, err) < 0)
		return -1;
	*out = name_index(names, count, value);
	if (*out < 0)
		return json_error(&node, err, "unknown %s \"%s\"", what, value);
	return 0;
}

static int parse_action(const struct json_node *obj, const char *key,
			enum oci_seccomp_action *out, novm_error_t *err)
{
	int i;

	if (parse_enum(obj, key, seccomp_action_names, ARRAY_SIZE(seccomp_action_names),
		       "seccomp action", &i, err) < 0)
		return -1;
	*out = i;
	return 0;
}

static int parse_seccomp_arg(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_seccomp_arg *a = dst;
	struct json_node node;
	int op;

	json_member(item, "index", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_u32(&node, NULL, &a->index, err) < 0)
		return -1;
	if (a->index > SECCOMP_MAX_ARG_INDEX)
		return json_error(&node, err, "%u is not a syscall argument (0..%d)", a->index,
				  SECCOMP_MAX_ARG_INDEX);
	if (json_require(item, "value", err) < 0 ||
	    json_get_u64(item, "value", &a->value, err) < 0 ||
	    json_get_u64(item, "valueTwo", &a->value_two, err) < 0 ||
	    parse_enum(item, "op", seccomp_op_names, ARRAY_SIZE(seccomp_op_names),
		       "seccomp operator", &op, err) < 0)
		return -1;
	a->op = op;
	return 0;
}

static int parse_seccomp_syscall(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_seccomp_syscall *s = dst;
	struct json_node names;
	int r;

	json_member(item, "names", &names);
	if (json_require(&names, NULL, err) < 0 || oci_parse_strv(&names, NULL, &s->names, err) < 0)
		return -1;
	if (s->names.len == 0)
		return json_error(&names, err, "must not be empty");
	if (parse_action(item, "action", &s->action, err) < 0)
		return -1;
	r = json_get_u32(item, "errnoRet", &s->errno_ret, err);
	if (r < 0)
		return -1;
	s->has_errno_ret = r;
	return oci_parse_object_array(item, "args", sizeof(*s->args), (void **)&s->args,
				      &s->n_args, parse_seccomp_arg, err);
}

static int parse_seccomp(const struct json_node *linux_node, struct oci_seccomp **out,
			 novm_error_t *err)
{
	struct json_node node;
	struct oci_seccomp *sc;
	int r;

	json_member(linux_node, "seccomp", &node);
	if (!json_present(&node))
		return 0;
	if (json_want_object(&node, NULL, err) < 0)
		return -1;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return novm_error(err, ENOMEM, "%s", node.path);
	*out = sc;
	if (parse_action(&node, "defaultAction", &sc->default_action, err) < 0)
		return -1;
	r = json_get_u32(&node, "defaultErrnoRet", &sc->default_errno_ret, err);
	if (r < 0)
		return -1;
	sc->has_default_errno_ret = r;
	if (oci_parse_strv(&node, "architectures", &sc->architectures, err) < 0 ||
	    oci_parse_strv(&node, "flags", &sc->flags, err) < 0)
		return -1;
	return oci_parse_object_array(&node, "syscalls", sizeof(*sc->syscalls),
				      (void **)&sc->syscalls, &sc->n_syscalls,
				      parse_seccomp_syscall, err);
}

static int parse_namespace(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_namespace *ns = dst;
	struct json_node path;
	int i;

	if (parse_enum(item, "type", namespace_types, ARRAY_SIZE(namespace_types),
		       "namespace type", &i, err) < 0)
		return -1;
	ns->type = strdup(namespace_types[i]);
	if (!ns->type)
		return novm_error(err, ENOMEM, "namespace");
	json_member(item, "path", &path);
	if (json_get_string(&path, NULL, &ns->path, err) < 0 ||
	    oci_check_absolute(&path, ns->path, err) < 0)
		return -1;
	return 0;
}

static int parse_namespaces(const struct json_node *linux_node, struct oci_linux *l,
			    novm_error_t *err)
{
	struct json_node arr, item;

	if (oci_parse_object_array(linux_node, "namespaces", sizeof(*l->namespaces),
				   (void **)&l->namespaces, &l->n_namespaces, parse_namespace,
				   err) < 0)
		return -1;
	/* the runtime-spec requires an error for a repeated type */
	json_member(linux_node, "namespaces", &arr);
	for (size_t i = 0; i < l->n_namespaces; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(l->namespaces[i].type, l->namespaces[j].type) == 0) {
				json_element(&arr, i, &item);
				return json_error(&item, err, "namespace \"%s\" given twice",
						  l->namespaces[i].type);
			}
		}
	}
	return 0;
}

static int parse_device(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_device *d = dst;
	struct json_node node;
	cleanup_free char *type = NULL;
	int r;

	json_member(item, "path", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &d->path, err) < 0 ||
	    oci_check_absolute(&node, d->path, err) < 0)
		return -1;
	json_member(item, "type", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &type, err) < 0)
		return -1;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return json_error(&node, err, "unknown device type \"%s\" (c, b, u or p)", type);
	d->type = type[0];
	/* a fifo has no device number; the others need both */
	if (d->type != 'p' && (json_require(item, "major", err) < 0 ||
			       json_require(item, "minor", err) < 0))
		return -1;
	if (json_get_i64(item, "major", &d->major, err) < 0 ||
	    json_get_i64(item, "minor", &d->minor, err) < 0)
		return -1;
	if ((r = json_get_u32(item, "fileMode", &d->file_mode, err)) < 0)
		return -1;
	d->has_file_mode = r;
	if ((r = json_get_u32(item, "uid", &d->uid, err)) < 0)
		return -1;
	d->has_uid = r;
	if ((r = json_get_u32(item, "gid", &d->gid, err)) < 0)
		return -1;
	d->has_gid = r;
	return 0;
}

static int parse_device_number(const struct json_node *item, const char *key, int64_t *out,
			       novm_error_t *err)
{
	struct json_node node;

	*out = OCI_DEVICE_ANY;
	if (json_get_i64(item, key, out, err) < 0)
		return -1;
	if (*out != OCI_DEVICE_ANY && (*out < 0 || *out > UINT32_MAX)) {
		json_member(item, key, &node);
		return json_error(&node, err, "%" PRId64 " is not a device number (0..%" PRIu32
				  ", or -1 for all)", *out, UINT32_MAX);
	}
	return 0;
}

static int parse_device_rule(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_device_rule *d = dst;
	cleanup_free char *type = NULL, *access = NULL;
	struct json_node node;

	json_member(item, "allow", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_bool(&node, NULL, &d->allow, err) < 0)
		return -1;
	json_member(item, "type", &node);
	if (json_get_string(&node, NULL, &type, err) < 0)
		return -1;
	/* runc and crun read an absent type as "a" */
	d->type = 'a';
	if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
		return json_error(&node, err, "unknown device type \"%s\" (a, c or b)", type);
	if (type)
		d->type = type[0];
	if (parse_device_number(item, "major", &d->major, err) < 0 ||
	    parse_device_number(item, "minor", &d->minor, err) < 0)
		return -1;
	json_member(item, "access", &node);
	if (json_get_string(&node, NULL, &access, err) < 0)
		return -1;
	d->access = access && *access ? 0 : OCI_DEVICE_ACCESS_ALL;
	for (const char *c = access; c && *c; c++) {
		switch (*c) {
		case 'r':
			d->access |= OCI_DEVICE_ACCESS_READ;
			break;
		case 'w':
			d->access |= OCI_DEVICE_ACCESS_WRITE;
			break;
		case 'm':
			d->access |= OCI_DEVICE_ACCESS_MKNOD;
			break;
		default:
			return json_error(&node, err, "unknown device access \"%s\" (r, w and m)",
					  access);
		}
	}
	return 0;
}

/* A cgroup limit where -1 is "unlimited" (runc, the runtime-spec): a value
 * below -1 is a mistake, not another way to say "no limit".  1 when
 * present, 0 when absent, -1 on error. */
static int get_limit(const struct json_node *obj, const char *key, int64_t *out,
		     novm_error_t *err)
{
	struct json_node node;
	int r = json_get_i64(obj, key, out, err);

	if (r > 0 && *out < -1) {
		json_member(obj, key, &node);
		return json_error(&node, err, "%" PRId64 " is not a limit (-1 for unlimited, or 0 and up)",
				  *out);
	}
	return r;
}

static int parse_resources(const struct json_node *linux_node, struct oci_resources *res,
			   novm_error_t *err)
{
	struct json_node resources, node, memory, cpu, pids;
	int r;

	json_member(linux_node, "resources", &resources);
	if (json_want_object(&resources, NULL, err) < 0)
		return -1;
	json_member(&resources, "memory", &memory);
	json_member(&resources, "cpu", &cpu);
	json_member(&resources, "pids", &pids);
	if (json_want_object(&memory, NULL, err) < 0 || json_want_object(&cpu, NULL, err) < 0 ||
	    json_want_object(&pids, NULL, err) < 0)
		return -1;

	if ((r = get_limit(&memory, "limit", &res->memory_limit, err)) < 0)
		return -1;
	res->has_memory_limit = r;
	if ((r = get_limit(&memory, "reservation", &res->memory_reservation, err)) < 0)
		return -1;
	res->has_memory_reservation = r;
	if ((r = get_limit(&memory, "swap", &res->memory_swap, err)) < 0)
		return -1;
	res->has_memory_swap = r;
	if ((r = get_limit(&pids, "limit", &res->pids_limit, err)) < 0)
		return -1;
	res->has_pids_limit = r;
	if ((r = get_limit(&cpu, "quota", &res->cpu_quota, err)) < 0)
		return -1;
	res->has_cpu_quota = r;
	if ((r = json_get_u64(&cpu, "period", &res->cpu_period, err)) < 0)
		return -1;
	res->has_cpu_period = r;
	if ((r = json_get_u64(&cpu, "shares", &res->cpu_shares, err)) < 0)
		return -1;
	res->has_cpu_shares = r;
	/* checked here so a bad cpuset fails `create`, not VM sizing later */
	json_member(&cpu, "cpus", &node);
	if (json_get_string(&node, NULL, &res->cpus, err) < 0)
		return -1;
	if (res->cpus && *res->cpus && oci_cpuset_count(res->cpus) < 0)
		return json_error(&node, err, "invalid cpuset \"%s\"", res->cpus);
	return oci_parse_object_array(&resources, "devices", sizeof(*res->devices),
				      (void **)&res->devices, &res->n_devices, parse_device_rule, err);
}

int oci_parse_linux(const struct json_node *root, struct oci_linux *l, bool *present,
		    novm_error_t *err)
{
	struct json_node node;

	json_member(root, "linux", &node);
	*present = json_present(&node);
	if (!*present)
		return 0;
	if (json_want_object(&node, NULL, err) < 0 ||
	    parse_namespaces(&node, l, err) < 0 ||
	    oci_parse_object_array(&node, "devices", sizeof(*l->devices), (void **)&l->devices,
				   &l->n_devices, parse_device, err) < 0 ||
	    oci_parse_kv(&node, "sysctl", &l->sysctl, &l->n_sysctl, err) < 0 ||
	    parse_seccomp(&node, &l->seccomp, err) < 0 ||
	    oci_parse_strv(&node, "maskedPaths", &l->masked_paths, err) < 0 ||
	    oci_parse_strv(&node, "readonlyPaths", &l->readonly_paths, err) < 0 ||
	    json_get_string(&node, "cgroupsPath", &l->cgroups_path, err) < 0 ||
	    parse_resources(&node, &l->resources, err) < 0)
		return -1;
	return 0;
}

static void seccomp_free(struct oci_seccomp *sc)
{
	if (!sc)
		return;
	oci_strv_free(&sc->architectures);
	oci_strv_free(&sc->flags);
	for (size_t i = 0; sc->syscalls && i < sc->n_syscalls; i++) {
		oci_strv_free(&sc->syscalls[i].names);
		free(sc->syscalls[i].args);
	}
	free(sc->syscalls);
	free(sc);
}

void oci_linux_release(struct oci_linux *l)
{
	for (size_t i = 0; l->namespaces && i < l->n_namespaces; i++) {
		free(l->namespaces[i].type);
		free(l->namespaces[i].path);
	}
	free(l->namespaces);
	for (size_t i = 0; l->devices && i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	oci_kv_free(l->sysctl, l->n_sysctl);
	seccomp_free(l->seccomp);
	oci_strv_free(&l->masked_paths);
	oci_strv_free(&l->readonly_paths);
	free(l->cgroups_path);
	free(l->resources.cpus);
	free(l->resources.devices);
}
