/* config.json: the document, its top-level fields (version, root, mounts,
 * hooks, annotations) and the helpers the section parsers share.  The
 * process, linux and vm sections live in spec-process.c, spec-linux.c and
 * spec-vm.c. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "json.h"
#include "spec-internal.h"
#include "util.h"

#define CONFIG_NAME "config.json"

/* ---- shared helpers ---- */

void oci_strv_free(struct oci_strv *v)
{
	if (v->items) {
		for (size_t i = 0; i < v->len; i++)
			free(v->items[i]);
		free(v->items);
	}
	v->items = NULL;
	v->len = 0;
}

int oci_parse_strv(const struct json_node *obj, const char *key, struct oci_strv *out,
		   novm_error_t *err)
{
	return json_get_string_array(obj, key, &out->items, &out->len, err) < 0 ? -1 : 0;
}

void oci_kv_free(struct oci_kv *kv, size_t len)
{
	if (!kv)
		return;
	for (size_t i = 0; i < len; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int oci_parse_kv(const struct json_node *obj, const char *key, struct oci_kv **out, size_t *len,
		 novm_error_t *err)
{
	struct json_node map, value;
	struct oci_kv *kv;
	size_t count;

	json_member(obj, key, &map);
	if (!json_present(&map))
		return 0;
	if (json_want_object(&map, NULL, err) < 0)
		return -1;
	count = json_object_len(&map);
	kv = calloc(count ? count : 1, sizeof(*kv));
	if (!kv)
		return novm_error(err, ENOMEM, "%s", map.path);
	*out = kv;
	*len = 0;
	for (size_t i = 0; i < count; i++) {
		const char *name = json_object_entry(&map, i, &value);
		char *text = NULL;
		size_t slot = *len;

		if (json_get_string(&value, NULL, &text, err) < 0)
			return -1;
		if (!text)	/* null: treated as absent like elsewhere */
			continue;
		for (size_t j = 0; j < *len; j++) {
			if (strcmp(kv[j].key, name) == 0) {
				slot = j;
				break;
			}
		}
		if (slot < *len) {
			free(kv[slot].value);
			kv[slot].value = text;
			continue;
		}
		kv[slot].key = strdup(name);
		kv[slot].value = text;
		(*len)++;
		if (!kv[slot].key)
			return novm_error(err, ENOMEM, "%s", map.path);
	}
	return 0;
}

int oci_parse_object_array(const struct json_node *obj, const char *key, size_t elem_size,
			   void **out, size_t *len,
			   int (*parse_item)(const struct json_node *item, void *dst,
					     novm_error_t *err),
			   novm_error_t *err)
{
	struct json_node arr, item;
	size_t count;
	char *items;

	json_member(obj, key, &arr);
	if (!json_present(&arr))
		return 0;
	if (json_want_array(&arr, NULL, err) < 0)
		return -1;
	count = json_array_len(&arr);
	items = calloc(count ? count : 1, elem_size);
	if (!items)
		return novm_error(err, ENOMEM, "%s", arr.path);
	*out = items;
	*len = count;
	for (size_t i = 0; i < count; i++) {
		json_element(&arr, i, &item);
		if (!json_present(&item))
			return json_error(&item, err, "expected an object");
		if (json_want_object(&item, NULL, err) < 0 ||
		    parse_item(&item, items + i * elem_size, err) < 0)
			return -1;
	}
	return 0;
}

int oci_check_absolute(const struct json_node *node, const char *path, novm_error_t *err)
{
	if (path && path[0] != '/')
		return json_error(node, err, "must be an absolute path, not \"%s\"", path);
	return 0;
}

/* ---- top-level fields ---- */

/* Any 1.x.y: minor versions only add fields, which we may ignore. */
static int parse_version(const struct json_node *root, struct oci_spec *spec, novm_error_t *err)
{
	struct json_node node;
	const char *v;

	json_member(root, "ociVersion", &node);
	if (!spec->bundle && !json_present(&node))
		return 0;	/* a bundle-less copy may leave it out */
	if (json_require(&node, NULL, err) < 0 ||
	    json_get_string(&node, NULL, &spec->oci_version, err) < 0)
		return -1;
	v = spec->oci_version;
	if (v[0] != '1' || v[1] != '.' || !isdigit((unsigned char)v[2]))
		return json_error(&node, err, "unsupported version \"%s\" (novm reads 1.x.y)", v);
	return 0;
}

/* root.path relative to the bundle becomes absolute; the directory must
 * exist now, since everything later hands it to the guest's filesystem.
 * Without a bundle the section is optional and kept as written. */
static int parse_root(const struct json_node *root, struct oci_spec *spec, novm_error_t *err)
{
	struct json_node node, path_node;
	cleanup_free char *path = NULL, *joined = NULL;
	struct stat st;

	json_member(root, "root", &node);
	if (!spec->bundle && !json_present(&node))
		return 0;
	if (json_require(&node, NULL, err) < 0 || json_want_object(&node, NULL, err) < 0)
		return -1;
	json_member(&node, "path", &path_node);
	if (json_require(&path_node, NULL, err) < 0 ||
	    json_get_string(&path_node, NULL, &path, err) < 0 ||
	    json_get_bool(&node, "readonly", &spec->root.readonly, err) < 0)
		return -1;
	if (!*path)
		return json_error(&path_node, err, "must not be empty");
	if (!spec->bundle) {
		spec->root.path = steal_pointer(&path);
		return 0;
	}
	if (path[0] == '/')
		joined = steal_pointer(&path);
	else if (asprintf(&joined, "%s/%s", spec->bundle, path) < 0)
		return novm_error(err, ENOMEM, "root.path");

	if (stat(joined, &st) < 0)
		return json_error(&path_node, err, "%s: %s", joined, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return json_error(&path_node, err, "%s: not a directory", joined);
	spec->root.path = realpath(joined, NULL);
	if (!spec->root.path)
		return json_error(&path_node, err, "%s: %s", joined, strerror(errno));
	return 0;
}

int oci_parse_mount(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_mount *m = dst;

	if (json_require(item, "destination", err) < 0 ||
	    json_get_string(item, "destination", &m->destination, err) < 0 ||
	    json_get_string(item, "type", &m->type, err) < 0 ||
	    json_get_string(item, "source", &m->source, err) < 0 ||
	    oci_parse_strv(item, "options", &m->options, err) < 0)
		return -1;
	if (!*m->destination) {
		struct json_node node;

		json_member(item, "destination", &node);
		return json_error(&node, err, "must not be empty");
	}
	return 0;
}

/* Without a bundle the document came from the host for the guest, which
 * mounts only at absolute destinations. */
static int parse_guest_mount(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_mount *m = dst;
	struct json_node node;

	if (oci_parse_mount(item, dst, err) < 0)
		return -1;
	json_member(item, "destination", &node);
	return oci_check_absolute(&node, m->destination, err);
}

static int parse_hook(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_hook *h = dst;
	struct json_node node;
	int r;

	json_member(item, "path", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &h->path, err) < 0 ||
	    oci_check_absolute(&node, h->path, err) < 0 ||
	    oci_parse_strv(item, "args", &h->args, err) < 0 ||
	    oci_parse_strv(item, "env", &h->env, err) < 0)
		return -1;
	json_member(item, "timeout", &node);
	r = json_get_int(&node, NULL, &h->timeout, err);
	if (r < 0)
		return -1;
	h->has_timeout = r;
	if (h->has_timeout && h->timeout <= 0)
		return json_error(&node, err, "must be greater than zero");
	return 0;
}

static int parse_hook_list(const struct json_node *hooks, const char *key,
			   struct oci_hook_list *list, novm_error_t *err)
{
	return oci_parse_object_array(hooks, key, sizeof(*list->hooks), (void **)&list->hooks,
				      &list->len, parse_hook, err);
}

static int parse_hooks(const struct json_node *root, struct oci_hooks *hooks, novm_error_t *err)
{
	struct json_node node;

	json_member(root, "hooks", &node);
	if (json_want_object(&node, NULL, err) < 0)
		return -1;
	if (parse_hook_list(&node, "prestart", &hooks->prestart, err) < 0 ||
	    parse_hook_list(&node, "createRuntime", &hooks->create_runtime, err) < 0 ||
	    parse_hook_list(&node, "createContainer", &hooks->create_container, err) < 0 ||
	    parse_hook_list(&node, "startContainer", &hooks->start_container, err) < 0 ||
	    parse_hook_list(&node, "poststart", &hooks->poststart, err) < 0 ||
	    parse_hook_list(&node, "poststop", &hooks->poststop, err) < 0)
		return -1;
	return 0;
}

static int parse_sections(const struct json_node *config, struct oci_spec *spec,
			  novm_error_t *err)
{
	if (!json_present(config) || json_want_object(config, NULL, err) < 0)
		return json_error(config, err, "expected an object");
	if (parse_version(config, spec, err) < 0 ||
	    parse_root(config, spec, err) < 0 ||
	    oci_parse_process(config, &spec->process, err) < 0 ||
	    json_get_string(config, "hostname", &spec->hostname, err) < 0 ||
	    json_get_string(config, "domainname", &spec->domainname, err) < 0 ||
	    oci_parse_object_array(config, "mounts", sizeof(*spec->mounts), (void **)&spec->mounts,
				   &spec->n_mounts, spec->bundle ? oci_parse_mount : parse_guest_mount,
				   err) < 0 ||
	    parse_hooks(config, &spec->hooks, err) < 0 ||
	    oci_parse_kv(config, "annotations", &spec->annotations, &spec->n_annotations, err) < 0 ||
	    oci_parse_linux(config, &spec->linux_, &spec->has_linux, err) < 0 ||
	    oci_parse_vm(config, &spec->vm, err) < 0)
		return -1;
	return 0;
}

int oci_spec_from_node(const struct json_node *config, struct oci_spec **out,
		       novm_error_t *err)
{
	cleanup_oci_spec struct oci_spec *spec = calloc(1, sizeof(*spec));

	if (!spec)
		return novm_error(err, ENOMEM, "config");
	if (parse_sections(config, spec, err) < 0)
		return -1;
	*out = steal_pointer(&spec);
	return 0;
}

/* Parses *text (len bytes, NUL-terminated) and keeps it in the spec. */
static int parse_owned_text(const char *bundle_dir, char **text, size_t len,
			    struct oci_spec **out, novm_error_t *err)
{
	cleanup_oci_spec struct oci_spec *spec = calloc(1, sizeof(*spec));
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root;

	if (!spec)
		return novm_error(err, ENOMEM, "%s", CONFIG_NAME);
	spec->text = steal_pointer(text);
	spec->text_len = len;
	if (bundle_dir && !(spec->bundle = realpath(bundle_dir, NULL)))
		return novm_error(err, errno, "bundle %s", bundle_dir);
	if (json_doc_parse(CONFIG_NAME, spec->text, len, &doc, err) < 0)
		goto fail;
	json_doc_root(doc, &root);
	if (parse_sections(&root, spec, err) < 0)
		goto fail;
	spec->doc = steal_pointer(&doc);
	*out = steal_pointer(&spec);
	return 0;
fail:
	return bundle_dir ? novm_error_wrap(err, "bundle %s", bundle_dir) : -1;
}

int oci_spec_parse(const char *bundle_dir, const char *text, size_t len, struct oci_spec **out,
		   novm_error_t *err)
{
	cleanup_free char *copy = malloc(len + 1);

	if (!copy)
		return novm_error(err, ENOMEM, "%s", CONFIG_NAME);
	memcpy(copy, text, len);
	copy[len] = '\0';
	return parse_owned_text(bundle_dir, &copy, len, out, err);
}

int oci_spec_load(const char *bundle_dir, struct oci_spec **out, novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t len = 0;

	if (asprintf(&path, "%s/%s", bundle_dir, CONFIG_NAME) < 0)
		return novm_error(err, ENOMEM, "bundle %s", bundle_dir);
	if (read_file(path, &text, &len, err) < 0) {
		int e = err && *err ? (*err)->errno_ : 0;

		return novm_error(err, e, "bundle %s: %s", bundle_dir, CONFIG_NAME);
	}
	return parse_owned_text(bundle_dir, &text, len, out, err);
}

static void hook_list_release(struct oci_hook_list *list)
{
	for (size_t i = 0; list->hooks && i < list->len; i++) {
		free(list->hooks[i].path);
		oci_strv_free(&list->hooks[i].args);
		oci_strv_free(&list->hooks[i].env);
	}
	free(list->hooks);
}

void oci_hooks_release(struct oci_hooks *hooks)
{
	hook_list_release(&hooks->prestart);
	hook_list_release(&hooks->create_runtime);
	hook_list_release(&hooks->create_container);
	hook_list_release(&hooks->start_container);
	hook_list_release(&hooks->poststart);
	hook_list_release(&hooks->poststop);
	memset(hooks, 0, sizeof(*hooks));
}

int oci_hooks_parse(const char *doc_name, const char *text, size_t len, struct oci_hooks *out,
		    novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root;

	memset(out, 0, sizeof(*out));
	if (json_doc_parse(doc_name, text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (json_want_object(&root, NULL, err) < 0 || parse_hooks(&root, out, err) < 0) {
		oci_hooks_release(out);
		return -1;
	}
	return 0;
}

void oci_spec_free(struct oci_spec *spec)
{
	if (!spec)
		return;
	free(spec->text);
	json_doc_free(spec->doc);
	free(spec->bundle);
	free(spec->oci_version);
	free(spec->root.path);
	oci_process_release(&spec->process);
	free(spec->hostname);
	free(spec->domainname);
	for (size_t i = 0; spec->mounts && i < spec->n_mounts; i++) {
		free(spec->mounts[i].destination);
		free(spec->mounts[i].type);
		free(spec->mounts[i].source);
		oci_strv_free(&spec->mounts[i].options);
	}
	free(spec->mounts);
	oci_hooks_release(&spec->hooks);
	oci_kv_free(spec->annotations, spec->n_annotations);
	oci_linux_release(&spec->linux_);
	oci_vm_free(spec->vm);
	free(spec);
}

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key)
{
	for (size_t i = 0; i < spec->n_annotations; i++) {
		if (strcmp(spec->annotations[i].key, key) == 0)
			return spec->annotations[i].value;
	}
	return NULL;
}

const struct oci_namespace *oci_spec_namespace(const struct oci_spec *spec, const char *type)
{
	const struct oci_namespace *found = NULL;

	for (size_t i = 0; spec->has_linux && i < spec->linux_.n_namespaces; i++)
		if (spec->linux_.namespaces[i].type && !strcmp(spec->linux_.namespaces[i].type, type))
			found = &spec->linux_.namespaces[i];
	return found;
}
