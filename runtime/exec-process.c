#include "exec-process.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "oci/json.h"
#include "oci/spec.h"
#include "util.h"

static int strv_copy(struct oci_strv *dst, char *const *items, size_t len, novm_error_t *err)
{
	dst->items = calloc(len + 1, sizeof(char *));
	dst->len = 0;
	if (!dst->items)
		return novm_error(err, ENOMEM, "exec");
	for (size_t i = 0; i < len; i++) {
		if (!(dst->items[i] = strdup(items[i])))
			return novm_error(err, ENOMEM, "exec");
		dst->len = i + 1;
	}
	return 0;
}

static int strv_push(struct oci_strv *v, const char *item, novm_error_t *err)
{
	char **grown = realloc(v->items, (v->len + 2) * sizeof(char *));

	if (!grown)
		return novm_error(err, ENOMEM, "exec");
	v->items = grown;
	if (!(v->items[v->len] = strdup(item)))
		return novm_error(err, ENOMEM, "exec");
	v->items[++v->len] = NULL;
	return 0;
}

static bool strv_has(const struct oci_strv *v, const char *item)
{
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->items[i], item))
			return true;
	return false;
}

/* KEY=VALUE replaces an earlier KEY= (the last one is what a shell would
 * see), else goes at the end. */
static int env_set(struct oci_strv *env, const char *kv, novm_error_t *err)
{
	size_t key = strcspn(kv, "=");

	for (size_t i = 0; i < env->len; i++)
		if (!strncmp(env->items[i], kv, key) && env->items[i][key] == '=') {
			char *copy = strdup(kv);
			if (!copy)
				return novm_error(err, ENOMEM, "exec");
			free(env->items[i]);
			env->items[i] = copy;
			return 0;
		}
	return strv_push(env, kv, err);
}

static bool parse_id(const char *s, size_t len, uint32_t *out)
{
	char buf[16];
	char *end;
	unsigned long v;

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return false;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = v;
	return true;
}

static int apply_user(struct oci_user *u, const struct exec_flags *f, novm_error_t *err)
{
	if (f->user && *f->user) {
		size_t uid_len = strcspn(f->user, ":");
		if (!parse_id(f->user, uid_len, &u->uid))
			return novm_error(err, 0, "parsing %s as int for uid failed: invalid syntax", f->user);
		if (f->user[uid_len] == ':' &&
		    !parse_id(f->user + uid_len + 1, strlen(f->user + uid_len + 1), &u->gid))
			return novm_error(err, 0, "parsing %s as int for gid failed: invalid syntax",
					  f->user + uid_len + 1);
	}
	for (size_t i = 0; i < f->n_additional_gids; i++) {
		if (f->additional_gids[i] < 0 || f->additional_gids[i] > UINT32_MAX)
			return novm_error(err, 0, "additional-gids must be a positive number %lld",
					  (long long)f->additional_gids[i]);
		uint32_t *grown = realloc(u->additional_gids, (u->n_additional_gids + 1) * sizeof(*grown));
		if (!grown)
			return novm_error(err, ENOMEM, "exec");
		u->additional_gids = grown;
		u->additional_gids[u->n_additional_gids++] = f->additional_gids[i];
	}
	return 0;
}

static int copy_process(const struct oci_process *b, struct oci_process *p, novm_error_t *err)
{
	const struct oci_capabilities *bc = &b->capabilities;
	struct oci_capabilities *pc = &p->capabilities;

	*p = (struct oci_process){
		.terminal = b->terminal,
		.user = b->user,
		.has_capabilities = b->has_capabilities,
		.no_new_privileges = b->no_new_privileges,
		.has_oom_score_adj = b->has_oom_score_adj,
		.oom_score_adj = b->oom_score_adj,
	};
	p->user.additional_gids = NULL;
	p->user.n_additional_gids = 0;
	if (b->user.n_additional_gids) {
		p->user.additional_gids = malloc(b->user.n_additional_gids * sizeof(uint32_t));
		if (!p->user.additional_gids)
			return novm_error(err, ENOMEM, "exec");
		memcpy(p->user.additional_gids, b->user.additional_gids,
		       b->user.n_additional_gids * sizeof(uint32_t));
		p->user.n_additional_gids = b->user.n_additional_gids;
	}
	if (!(p->cwd = strdup(b->cwd ? b->cwd : "/")))
		return novm_error(err, ENOMEM, "exec");
	if (strv_copy(&p->args, b->args.items, b->args.len, err) < 0 ||
	    strv_copy(&p->env, b->env.items, b->env.len, err) < 0 ||
	    strv_copy(&pc->bounding, bc->bounding.items, bc->bounding.len, err) < 0 ||
	    strv_copy(&pc->effective, bc->effective.items, bc->effective.len, err) < 0 ||
	    strv_copy(&pc->inheritable, bc->inheritable.items, bc->inheritable.len, err) < 0 ||
	    strv_copy(&pc->permitted, bc->permitted.items, bc->permitted.len, err) < 0 ||
	    strv_copy(&pc->ambient, bc->ambient.items, bc->ambient.len, err) < 0)
		return -1;
	if (b->n_rlimits) {
		p->rlimits = calloc(b->n_rlimits, sizeof(*p->rlimits));
		if (!p->rlimits)
			return novm_error(err, ENOMEM, "exec");
		p->n_rlimits = b->n_rlimits;
		for (size_t i = 0; i < b->n_rlimits; i++) {
			p->rlimits[i] = b->rlimits[i];
			if (!(p->rlimits[i].type = strdup(b->rlimits[i].type)))
				return novm_error(err, ENOMEM, "exec");
		}
	}
	return 0;
}

int exec_process_apply(const struct oci_process *base, const struct exec_flags *f,
		       struct oci_process *out, novm_error_t *err)
{
	struct oci_process p;
	size_t n_args = 0;

	if (copy_process(base, &p, err) < 0)
		goto fail;
	while (f->args && f->args[n_args])
		n_args++;
	if (!n_args) {
		novm_error(err, 0, "args must not be empty");
		goto fail;
	}
	oci_strv_free(&p.args);
	if (strv_copy(&p.args, f->args, n_args, err) < 0)
		goto fail;
	if (f->cwd && *f->cwd) {
		if (f->cwd[0] != '/') {
			novm_error(err, 0, "cwd property must be an absolute path");
			goto fail;
		}
		free(p.cwd);
		if (!(p.cwd = strdup(f->cwd))) {
			novm_error(err, ENOMEM, "exec");
			goto fail;
		}
	}
	for (size_t i = 0; i < f->n_env; i++)
		if (env_set(&p.env, f->env[i], err) < 0)
			goto fail;
	p.terminal = f->tty;
	p.has_console_size = false;
	if (f->has_no_new_privs)
		p.no_new_privileges = f->no_new_privs;
	if (apply_user(&p.user, f, err) < 0)
		goto fail;
	for (size_t i = 0; i < f->n_caps; i++) {
		struct oci_strv *sets[] = { &p.capabilities.bounding, &p.capabilities.effective,
					    &p.capabilities.inheritable, &p.capabilities.permitted,
					    &p.capabilities.ambient };
		p.has_capabilities = true;
		for (size_t s = 0; s < ARRAY_SIZE(sets); s++)
			if (!strv_has(sets[s], f->caps[i]) && strv_push(sets[s], f->caps[i], err) < 0)
				goto fail;
	}
	*out = p;
	return 0;
fail:
	oci_process_release(&p);
	return -1;
}

int exec_process_load(const char *path, struct oci_process *out, novm_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (read_file(path, &text, &len, err) < 0)
		return -1;
	return oci_process_parse(path, text, len, out, err);
}

static void gen_strv(struct json_gen *gen, const char *key, const struct oci_strv *v)
{
	json_gen_key(gen, key);
	json_gen_string_array(gen, v->items, v->len);
}

int exec_process_json(const struct oci_process *p, char **json, size_t *len, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new(NULL);

	if (!gen)
		return novm_error(err, ENOMEM, "exec");
	json_gen_object_open(gen);
	json_gen_member_bool(gen, "terminal", p->terminal);
	if (p->has_console_size) {
		json_gen_key(gen, "consoleSize");
		json_gen_object_open(gen);
		json_gen_member_u64(gen, "height", p->console_height);
		json_gen_member_u64(gen, "width", p->console_width);
		json_gen_object_close(gen);
	}
	json_gen_key(gen, "user");
	json_gen_object_open(gen);
	json_gen_member_u64(gen, "uid", p->user.uid);
	json_gen_member_u64(gen, "gid", p->user.gid);
	if (p->user.has_umask)
		json_gen_member_u64(gen, "umask", p->user.umask);
	if (p->user.n_additional_gids) {
		json_gen_key(gen, "additionalGids");
		json_gen_array_open(gen);
		for (size_t i = 0; i < p->user.n_additional_gids; i++)
			json_gen_u64(gen, p->user.additional_gids[i]);
		json_gen_array_close(gen);
	}
	json_gen_object_close(gen);
	gen_strv(gen, "args", &p->args);
	if (p->env.items)
		gen_strv(gen, "env", &p->env);
	json_gen_member_string(gen, "cwd", p->cwd);
	if (p->has_capabilities) {
		const struct oci_capabilities *c = &p->capabilities;
		json_gen_key(gen, "capabilities");
		json_gen_object_open(gen);
		gen_strv(gen, "bounding", &c->bounding);
		gen_strv(gen, "effective", &c->effective);
		gen_strv(gen, "inheritable", &c->inheritable);
		gen_strv(gen, "permitted", &c->permitted);
		gen_strv(gen, "ambient", &c->ambient);
		json_gen_object_close(gen);
	}
	if (p->n_rlimits) {
		json_gen_key(gen, "rlimits");
		json_gen_array_open(gen);
		for (size_t i = 0; i < p->n_rlimits; i++) {
			json_gen_object_open(gen);
			json_gen_member_string(gen, "type", p->rlimits[i].type);
			json_gen_member_u64(gen, "hard", p->rlimits[i].hard);
			json_gen_member_u64(gen, "soft", p->rlimits[i].soft);
			json_gen_object_close(gen);
		}
		json_gen_array_close(gen);
	}
	json_gen_member_bool(gen, "noNewPrivileges", p->no_new_privileges);
	if (p->has_oom_score_adj)
		json_gen_member_i64(gen, "oomScoreAdj", p->oom_score_adj);
	json_gen_object_close(gen);
	return json_gen_finish(gen, "process", json, len, err);
}

