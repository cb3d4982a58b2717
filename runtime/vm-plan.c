#include "vm-plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "jsonstr.h"
#include "oci/vm-size.h"
#include "vmm/kstore/kstore.h"
#include "vmm/vmm.h"

static bool is_bind_mount(const struct oci_mount *m)
{
	if (m->type && !strcmp(m->type, "bind"))
		return true;
	for (size_t i = 0; i < m->options.len; i++)
		if (!strcmp(m->options.items[i], "bind") || !strcmp(m->options.items[i], "rbind"))
			return true;
	return false;
}

static bool has_option(const struct oci_mount *m, const char *opt)
{
	for (size_t i = 0; i < m->options.len; i++)
		if (!strcmp(m->options.items[i], opt))
			return true;
	return false;
}

static int add_share(struct container_vm *vm, const char *tag, const char *path,
		     const struct vm_share *how, novm_error_t *err)
{
	struct vm_share *shares = realloc(vm->shares, (vm->nr_shares + 1) * sizeof(*shares));
	char **tags = realloc(vm->share_tags, (vm->nr_shares + 1) * sizeof(*tags));
	char **paths = realloc(vm->share_paths, (vm->nr_shares + 1) * sizeof(*paths));

	if (shares)
		vm->shares = shares;
	if (tags)
		vm->share_tags = tags;
	if (paths)
		vm->share_paths = paths;
	if (!shares || !tags || !paths || !(vm->share_tags[vm->nr_shares] = strdup(tag)))
		return novm_error(err, ENOMEM, "shares");
	vm->share_paths[vm->nr_shares] = NULL;
	vm->shares[vm->nr_shares] = *how;
	vm->shares[vm->nr_shares].tag = vm->share_tags[vm->nr_shares];
	vm->shares[vm->nr_shares].path = path;
	vm->nr_shares++;
	return 0;
}

/* "/a/b/name" as one allocation "/a/b\0name": *dir owns it, *name points
 * into it.  "/name" gives "/\0name".  -1 when source has no file name. */
static int split_file_source(const char *source, char **dir, const char **name)
{
	const char *slash = strrchr(source, '/');
	size_t dir_len;
	char *buf;

	if (!slash || !slash[1])
		return -1;
	dir_len = slash == source ? 1 : (size_t)(slash - source);
	buf = malloc(strlen(source) + 2);
	if (!buf)
		return -1;
	memcpy(buf, source, dir_len);
	buf[dir_len] = '\0';
	strcpy(buf + dir_len + 1, slash + 1);
	*dir = buf;
	*name = buf + dir_len + 1;
	return 0;
}

static void share_json(FILE *json, const char *tag, const struct share_plan *s, const char *path)
{
	fputs("{\"tag\":", json);
	json_write_string(json, tag);
	fputs(",\"destination\":", json);
	json_write_string(json, s->destination);
	if (!s->is_root) {
		fputs(",\"source\":", json);
		json_write_string(json, s->source);
	}
	if (path) {
		fputs(",\"path\":", json);
		json_write_string(json, path);
	}
	fprintf(json, ",\"readonly\":%s}", json_bool(s->readonly));
}

int container_shares_each(const struct oci_spec *spec, share_fn fn, void *opaque, FILE *json,
			  novm_error_t *err)
{
	struct share_plan root = {
		.destination = "/", .source = spec->root.path, .is_root = true, .is_dir = true,
		.readonly = spec->root.readonly,
	};
	const char *tag = NULL, *path = NULL;

	fputc('[', json);
	if (fn(opaque, &root, &tag, &path, err) < 0)
		return -1;
	share_json(json, tag, &root, path);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];
		struct stat st;

		if (!is_bind_mount(m) || !m->source)
			continue;
		if (stat(m->source, &st) < 0)
			return novm_error(err, errno, "mount %s: source `%s`", m->destination, m->source);
		const struct share_plan s = {
			.destination = m->destination, .source = m->source, .mount_index = i,
			.is_dir = S_ISDIR(st.st_mode), .readonly = has_option(m, "ro"),
		};
		if (fn(opaque, &s, &tag, &path, err) < 0)
			return -1;
		fputc(',', json);
		share_json(json, tag, &s, path);
	}
	fputc(']', json);
	return 0;
}

/* Each share is a virtio-fs device.  A read-only root is written only by
 * the agent, for the mount points it makes before the container runs (as
 * runc writes them); the VMM seals it once the container is created.  A
 * file (Docker's /etc/resolv.conf, hosts, hostname) is served as a
 * single-file share of its directory, with a "path" naming it: the guest
 * sees no sibling of the file, and the agent mounts the share where only
 * it sees it and binds just the file into the container. */
static int add_vm_share(void *opaque, const struct share_plan *s, const char **tag,
			const char **path, novm_error_t *err)
{
	struct container_vm *vm = opaque;
	cleanup_free char *dir = NULL;
	const char *file = NULL;
	char name[32];

	*path = NULL;
	if (s->is_root) {
		const struct vm_share root = { .readonly_once_created = s->readonly };
		if (add_share(vm, CONTAINER_ROOTFS_TAG, s->source, &root, err) < 0)
			return -1;
		*tag = vm->share_tags[vm->nr_shares - 1];
		return 0;
	}
	if (s->is_dir) {
		if (!(dir = strdup(s->source)))
			return novm_error(err, ENOMEM, "shares");
	} else if (split_file_source(s->source, &dir, &file) < 0) {
		return novm_error(err, 0, "mount %s: source `%s` must be an absolute path to a file",
				  s->destination, s->source);
	}
	snprintf(name, sizeof(name), "m%zu", s->mount_index);
	const struct vm_share how = { .readonly = s->readonly, .only_name = file };

	if (add_share(vm, name, dir, &how, err) < 0)
		return -1;
	vm->share_paths[vm->nr_shares - 1] = steal_pointer(&dir);
	*tag = vm->share_tags[vm->nr_shares - 1];
	*path = file;
	return 0;
}

static int build_agent_config(const struct oci_spec *spec, bool start, struct container_vm *vm,
			      novm_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *json = open_memstream(&buf, &len);
	int ret;

	if (!json)
		return novm_error(err, errno, "agent configuration");
	fputs("{\"config\":", json);
	fwrite(spec->text, 1, spec->text_len, json);
	fputs(",\"shares\":", json);
	ret = container_shares_each(spec, add_vm_share, vm, json, err);
	fprintf(json, ",\"start\":%s}", json_bool(start));
	fclose(json);
	if (ret < 0) {
		free(buf);
		return -1;
	}
	vm->agent_config = buf;
	vm->agent_config_len = len;
	return 0;
}

static int build_cmdline(const struct oci_spec *spec, struct container_vm *vm, novm_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return novm_error(err, errno, "kernel command line");
	fputs(VMM_DEFAULT_CMDLINE " novm.mode=container", out);
	if (spec->vm)
		for (size_t i = 0; i < spec->vm->kernel_parameters.len; i++)
			fprintf(out, " %s", spec->vm->kernel_parameters.items[i]);
	fclose(out);
	vm->cmdline = buf;
	return 0;
}

/* The file bind-mounted at /etc/resolv.conf, read once the create hooks
 * ran (read_dns_relay): Docker writes its embedded DNS there only then. */
static int plan_resolv_conf(const struct oci_spec *spec, struct container_vm *vm, novm_error_t *err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];

		if (strcmp(m->destination, "/etc/resolv.conf") || !m->source)
			continue;
		/* The last such mount wins: it shadows the earlier ones. */
		free(vm->resolv_conf);
		if (!(vm->resolv_conf = strdup(m->source)))
			return novm_error(err, ENOMEM, "resolv.conf");
	}
	return 0;
}

/* A loopback nameserver in the container's resolv.conf (Docker's embedded
 * DNS, 127.0.0.11 on user-defined networks) is in the network namespace,
 * which the guest is not: the guest's DNS relay stands in for it there. */
static int read_dns_relay(struct container_vm *vm, novm_error_t *err)
{
	cleanup_fclose FILE *f = NULL;
	char line[256], addr[64];
	struct in_addr a;

	if (!vm->resolv_conf || !(f = fopen(vm->resolv_conf, "re")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nameserver %63s", addr) != 1 || strncmp(addr, "127.", 4) ||
		    inet_pton(AF_INET, addr, &a) != 1)
			continue;
		free(vm->dns_relay);
		if (!(vm->dns_relay = strdup(addr)))
			return novm_error(err, ENOMEM, "DNS relay");
		return 0;
	}
	return 0;
}

int container_vm_prepare(const struct oci_spec *spec, bool start, struct container_vm *out,
			 novm_error_t *err)
{
	const char *kernel, *allow = getenv(OCI_ALLOW_KERNEL_PATHS_ENV);
	bool store_only;

	memset(out, 0, sizeof(*out));
	if (oci_vm_size(spec, &out->vcpus, &out->memory, err) < 0 ||
	    oci_vm_kernel(spec, allow && !strcmp(allow, "1"), &kernel, &store_only, err) < 0)
		goto fail;
	if (store_only) {
		if (kstore_resolve_entry(kstore_root(), kernel, &out->kernel, err) < 0) {
			novm_error_wrap(err, "annotation %s", OCI_ANNOTATION_KERNEL);
			goto fail;
		}
	} else if (kstore_resolve(kstore_root(), kernel, &out->kernel, err) < 0) {
		goto fail;
	}
	if (spec->vm && spec->vm->kernel_initrd) {
		if (!(out->initrd = strdup(spec->vm->kernel_initrd))) {
			novm_error(err, ENOMEM, "initrd");
			goto fail;
		}
	} else if (initramfs_default(out->kernel.modules_dir, &out->initrd, err) < 0) {
		goto fail;
	}
	if (build_cmdline(spec, out, err) < 0 || build_agent_config(spec, start, out, err) < 0 ||
	    plan_resolv_conf(spec, out, err) < 0)
		goto fail;
	return 0;
fail:
	container_vm_release(out);
	return -1;
}

int container_vm_set_network(struct container_vm *vm, const struct net_plan *plan,
			     novm_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;

	if (read_dns_relay(vm, err) < 0)
		return -1;
	FILE *json = open_memstream(&buf, &len);
	if (!json)
		return novm_error(err, errno, "agent configuration");
	/* The document is one object: its closing brace makes room. */
	fwrite(vm->agent_config, 1, vm->agent_config_len - 1, json);
	fputs(",\"network\":", json);
	net_plan_json(plan, vm->dns_relay, json);
	fputc('}', json);
	if (fclose(json) != 0) {
		free(buf);
		return novm_error(err, ENOMEM, "agent configuration");
	}
	free(vm->agent_config);
	vm->agent_config = buf;
	vm->agent_config_len = len;
	return 0;
}

void container_vm_release(struct container_vm *vm)
{
	kernel_ref_release(&vm->kernel);
	free(vm->initrd);
	free(vm->cmdline);
	for (int i = 0; i < vm->nr_shares; i++) {
		free(vm->share_tags[i]);
		free(vm->share_paths[i]);
	}
	free(vm->share_tags);
	free(vm->share_paths);
	free(vm->shares);
	free(vm->agent_config);
	free(vm->dns_relay);
	free(vm->resolv_conf);
	memset(vm, 0, sizeof(*vm));
}
