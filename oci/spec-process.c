/* config.json `process`: what the agent will exec in the guest, checked
 * here so that a bad bundle fails at `create` on the host with a clear
 * message rather than inside a VM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "cleanup.h"
#include "json.h"
#include "spec-internal.h"

static const struct {
	const char *name;
	int resource;
} rlimit_types[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

static int parse_rlimit(const struct json_node *item, void *dst, novm_error_t *err)
{
	struct oci_rlimit *rl = dst;
	struct json_node type;
	size_t i;

	json_member(item, "type", &type);
	if (json_require(&type, NULL, err) < 0 || json_get_string(&type, NULL, &rl->type, err) < 0 ||
	    json_require(item, "hard", err) < 0 || json_get_u64(item, "hard", &rl->hard, err) < 0 ||
	    json_require(item, "soft", err) < 0 || json_get_u64(item, "soft", &rl->soft, err) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(rlimit_types); i++) {
		if (strcmp(rlimit_types[i].name, rl->type) == 0)
			break;
	}
	if (i == ARRAY_SIZE(rlimit_types))
		return json_error(&type, err, "unknown rlimit type \"%s\"", rl->type);
	rl->resource = rlimit_types[i].resource;
	/* setrlimit() in the guest would fail with a bare EINVAL */
	if (rl->soft > rl->hard)
		return json_error(item, err, "soft limit %llu above hard limit %llu",
				  (unsigned long long)rl->soft, (unsigned long long)rl->hard);
	return 0;
}

static int parse_rlimits(const struct json_node *process, struct oci_process *p,
			 novm_error_t *err)
{
	struct json_node arr, item;

	if (oci_parse_object_array(process, "rlimits", sizeof(*p->rlimits), (void **)&p->rlimits,
				   &p->n_rlimits, parse_rlimit, err) < 0)
		return -1;
	/* the runtime-spec requires an error for a repeated type */
	json_member(process, "rlimits", &arr);
	for (size_t i = 0; i < p->n_rlimits; i++) {
		for (size_t j = 0; j < i; j++) {
			if (p->rlimits[i].resource == p->rlimits[j].resource) {
				json_element(&arr, i, &item);
				return json_error(&item, err, "%s given twice", p->rlimits[i].type);
			}
		}
	}
	return 0;
}

/* Names are spelled as in the runtime-spec, "CAP_" and upper case;
 * cap_from_name() alone also takes "cap_kill", "12" and "CAP_KILL,". */
static bool capability_known(const char *name)
{
	cap_value_t value;

	if (strncmp(name, "CAP_", 4) != 0 || !name[4])
		return false;
	for (const char *c = name + 4; *c; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	}
	return cap_from_name(name, &value) == 0;
}

static int parse_capability_set(const struct json_node *caps, const char *key,
				struct oci_strv *set, novm_error_t *err)
{
	struct json_node node;

	json_member(caps, key, &node);
	if (oci_parse_strv(&node, NULL, set, err) < 0)
		return -1;
	for (size_t i = 0; i < set->len; i++) {
		if (!capability_known(set->items[i]))
			return json_error(&node, err, "unknown capability \"%s\"", set->items[i]);
	}
	return 0;
}

static int parse_capabilities(const struct json_node *process, struct oci_process *p,
			      novm_error_t *err)
{
	struct json_node caps;
	struct oci_capabilities *c = &p->capabilities;

	json_member(process, "capabilities", &caps);
	if (!json_present(&caps))
		return 0;
	if (json_want_object(&caps, NULL, err) < 0)
		return -1;
	p->has_capabilities = true;
	if (parse_capability_set(&caps, "bounding", &c->bounding, err) < 0 ||
	    parse_capability_set(&caps, "effective", &c->effective, err) < 0 ||
	    parse_capability_set(&caps, "inheritable", &c->inheritable, err) < 0 ||
	    parse_capability_set(&caps, "permitted", &c->permitted, err) < 0 ||
	    parse_capability_set(&caps, "ambient", &c->ambient, err) < 0)
		return -1;
	return 0;
}

static int parse_user(const struct json_node *process, struct oci_user *u, novm_error_t *err)
{
	struct json_node user, gids, item;
	int r;

	json_member(process, "user", &user);
	if (json_want_object(&user, NULL, err) < 0 ||
	    json_get_u32(&user, "uid", &u->uid, err) < 0 ||
	    json_get_u32(&user, "gid", &u->gid, err) < 0)
		return -1;
	r = json_get_u32(&user, "umask", &u->umask, err);
	if (r < 0)
		return -1;
	u->has_umask = r;

	json_member(&user, "additionalGids", &gids);
	if (!json_present(&gids))
		return 0;
	if (json_want_array(&gids, NULL, err) < 0)
		return -1;
	u->n_additional_gids = json_array_len(&gids);
	u->additional_gids = calloc(u->n_additional_gids ? u->n_additional_gids : 1,
				    sizeof(*u->additional_gids));
	if (!u->additional_gids)
		return novm_error(err, ENOMEM, "%s", gids.path);
	for (size_t i = 0; i < u->n_additional_gids; i++) {
		json_element(&gids, i, &item);
		r = json_get_u32(&item, NULL, &u->additional_gids[i], err);
		if (r < 0)
			return -1;
		if (r == 0)
			return json_error(&item, err, "expected an integer");
	}
	return 0;
}

static int parse_console_size(const struct json_node *process, struct oci_process *p,
			      novm_error_t *err)
{
	struct json_node box;

	json_member(process, "consoleSize", &box);
	if (!json_present(&box))
		return 0;
	if (json_want_object(&box, NULL, err) < 0 ||
	    json_require(&box, "height", err) < 0 ||
	    json_get_u32(&box, "height", &p->console_height, err) < 0 ||
	    json_require(&box, "width", err) < 0 ||
	    json_get_u32(&box, "width", &p->console_width, err) < 0)
		return -1;
	p->has_console_size = true;
	return 0;
}

int oci_parse_process(const struct json_node *root, struct oci_process *p, novm_error_t *err)
{
	struct json_node process, node;
	int r;

	json_member(root, "process", &process);
	if (json_require(&process, NULL, err) < 0 || json_want_object(&process, NULL, err) < 0)
		return -1;

	json_member(&process, "args", &node);
	if (json_require(&node, NULL, err) < 0 || oci_parse_strv(&node, NULL, &p->args, err) < 0)
		return -1;
	if (p->args.len == 0)
		return json_error(&node, err, "must name the program to run");
	if (!p->args.items[0][0])
		return json_error(&node, err, "the program name is empty");

	json_member(&process, "cwd", &node);
	if (json_require(&node, NULL, err) < 0 || json_get_string(&node, NULL, &p->cwd, err) < 0 ||
	    oci_check_absolute(&node, p->cwd, err) < 0)
		return -1;

	if (json_get_bool(&process, "terminal", &p->terminal, err) < 0 ||
	    parse_console_size(&process, p, err) < 0 ||
	    parse_user(&process, &p->user, err) < 0 ||
	    oci_parse_strv(&process, "env", &p->env, err) < 0 ||
	    parse_capabilities(&process, p, err) < 0 ||
	    parse_rlimits(&process, p, err) < 0 ||
	    json_get_bool(&process, "noNewPrivileges", &p->no_new_privileges, err) < 0)
		return -1;

	json_member(&process, "oomScoreAdj", &node);
	r = json_get_int(&node, NULL, &p->oom_score_adj, err);
	if (r < 0)
		return -1;
	p->has_oom_score_adj = r;
	if (r && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
		return json_error(&node, err, "%d outside -1000..1000", p->oom_score_adj);
	/* apparmorProfile and selinuxLabel mean nothing inside our guest */
	return 0;
}

void oci_process_release(struct oci_process *p)
{
	struct oci_capabilities *c = &p->capabilities;

	free(p->user.additional_gids);
	oci_strv_free(&p->args);
	oci_strv_free(&p->env);
	free(p->cwd);
	oci_strv_free(&c->bounding);
	oci_strv_free(&c->effective);
	oci_strv_free(&c->inheritable);
	oci_strv_free(&c->permitted);
	oci_strv_free(&c->ambient);
	for (size_t i = 0; p->rlimits && i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}

int oci_process_parse(const char *doc_name, const char *text, size_t len, struct oci_process *out,
		      novm_error_t *err)
{
	cleanup_json_doc struct json_doc *doc = NULL;
	cleanup_free char *wrapped = NULL;
	struct json_node root;

	memset(out, 0, sizeof(*out));
	/* One object on its own, checked before it is spliced into
	 * {"process": ...}: oci_parse_process() reads that member, and its
	 * errors then name "process.<field>" as they do for config.json. */
	if (json_doc_parse(doc_name, text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (!json_present(&root) || json_want_object(&root, NULL, err) < 0)
		return json_error(&root, err, "expected a process object");
	json_doc_free(doc);
	doc = NULL;

	if (asprintf(&wrapped, "{\"process\":%.*s}", (int)len, text) < 0)
		return novm_error(err, ENOMEM, "%s", doc_name);
	if (json_doc_parse(doc_name, wrapped, strlen(wrapped), &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (oci_parse_process(&root, out, err) < 0) {
		oci_process_release(out);
		return -1;
	}
	return 0;
}
