/* The reading half of the yajl binding behind json.h (json-gen.c writes;
 * the two are the only files that know yajl).  Parsing runs twice: a
 * streaming pass without a tree reports syntax errors with their position
 * and bounds the nesting, then yajl_tree_parse() builds the tree of a
 * document already known to be valid. */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"

struct json_doc {
	char *name;
	yajl_val root;
};

/* The opaque node value is a yajl value; only this file looks inside. */
static const struct yajl_val_s *yv(const struct json_node *node)
{
	return (const struct yajl_val_s *)node->value;
}

static const struct json_value *as_node_value(const struct yajl_val_s *v)
{
	/* null is "absent" to every reader, as with an omitted member */
	if (!v || v->type == yajl_t_null)
		return NULL;
	return (const struct json_value *)v;
}

/* ---- parsing ---- */

struct syntax_check {
	int depth;
	bool too_deep;
};

static int syntax_open(void *ctx)
{
	struct syntax_check *check = ctx;

	if (++check->depth > JSON_MAX_DEPTH) {
		check->too_deep = true;
		return 0;	/* cancels the parse */
	}
	return 1;
}

static int syntax_close(void *ctx)
{
	((struct syntax_check *)ctx)->depth--;
	return 1;
}

static const yajl_callbacks syntax_callbacks = {
	.yajl_start_map = syntax_open,
	.yajl_end_map = syntax_close,
	.yajl_start_array = syntax_open,
	.yajl_end_array = syntax_close,
};

static void line_column(const char *text, size_t offset, size_t *line, size_t *column)
{
	size_t line_start = 0;

	*line = 1;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			(*line)++;
			line_start = i + 1;
		}
	}
	*column = offset - line_start + 1;
}

/* Same options as yajl_tree_parse() (comments allowed), so the two passes
 * agree on what is valid. */
static int check_syntax(const char *name, const char *text, size_t len, novm_error_t *err)
{
	struct syntax_check check = { 0 };
	yajl_handle h = yajl_alloc(&syntax_callbacks, NULL, &check);
	yajl_status st;
	size_t offset, line, column;

	if (!h)
		return novm_error(err, ENOMEM, "%s", name);
	yajl_config(h, yajl_allow_comments, 1);
	st = yajl_parse(h, (const unsigned char *)text, len);
	/* the error sits on the last byte consumed; at the end when the text
	 * stops short (premature EOF is only found by complete_parse) */
	offset = yajl_get_bytes_consumed(h);
	offset = offset ? offset - 1 : 0;
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		offset = len;
	}
	if (st == yajl_status_ok) {
		yajl_free(h);
		return 0;
	}
	line_column(text, offset, &line, &column);
	if (check.too_deep) {
		yajl_free(h);
		return novm_error(err, 0, "%s: nesting deeper than %d levels at line %zu, column %zu",
				  name, JSON_MAX_DEPTH, line, column);
	}

	unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
	cleanup_free char *text_msg = strdup(msg ? (const char *)msg : "parse error");
	if (msg)
		yajl_free_error(h, msg);
	yajl_free(h);
	if (!text_msg)
		return novm_error(err, ENOMEM, "%s", name);
	/* yajl ends its message with a newline and a full stop */
	size_t n = strlen(text_msg);
	while (n && (text_msg[n - 1] == '\n' || text_msg[n - 1] == '.' || text_msg[n - 1] == ' '))
		text_msg[--n] = '\0';
	return novm_error(err, 0, "%s: invalid JSON at line %zu, column %zu: %s", name, line,
			  column, text_msg);
}

int json_doc_parse(const char *name, const char *text, size_t len, struct json_doc **out,
		   novm_error_t *err)
{
	cleanup_free char *copy = NULL;
	struct json_doc *doc;
	char errbuf[256] = "";

	if (check_syntax(name, text, len, err) < 0)
		return -1;
	/* yajl_tree_parse() wants a C string; a valid document has no NUL */
	copy = malloc(len + 1);
	doc = calloc(1, sizeof(*doc));
	if (!copy || !doc || !(doc->name = strdup(name))) {
		json_doc_free(doc);
		return novm_error(err, ENOMEM, "%s", name);
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	doc->root = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
	if (!doc->root) {
		json_doc_free(doc);
		errbuf[strcspn(errbuf, "\n")] = '\0';
		return novm_error(err, 0, "%s: %s", name, *errbuf ? errbuf : "cannot parse");
	}
	*out = doc;
	return 0;
}

void json_doc_free(struct json_doc *doc)
{
	if (!doc)
		return;
	yajl_tree_free(doc->root);
	free(doc->name);
	free(doc);
}

void json_doc_root(const struct json_doc *doc, struct json_node *out)
{
	out->doc = doc;
	out->value = as_node_value(doc->root);
	out->path[0] = '\0';
}

int json_error(const struct json_node *node, novm_error_t *err, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	const char *name = node->doc ? node->doc->name : "JSON";
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return novm_error(err, ENOMEM, "%s", name);
	if (node->path[0])
		return novm_error(err, 0, "%s: %s: %s", name, node->path, msg);
	return novm_error(err, 0, "%s: %s", name, msg);
}

/* ---- navigation ---- */

static void set_path(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_path(char *dst, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, JSON_PATH_MAX, fmt, ap);
	va_end(ap);
	if (n >= JSON_PATH_MAX)
		memcpy(dst + JSON_PATH_MAX - 4, "...", 4);
}

static bool plain_key(const char *key)
{
	return *key && key[strspn(key, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] == '\0';
}

/* "parent.key", or parent["key"] for keys such as annotation names that
 * would read ambiguously after a dot. */
static void member_path(char *dst, const char *parent, const char *key)
{
	char buf[JSON_PATH_MAX];

	if (!plain_key(key))
		set_path(buf, "%s[\"%s\"]", parent, key);
	else if (*parent)
		set_path(buf, "%s.%s", parent, key);
	else
		set_path(buf, "%s", key);
	memcpy(dst, buf, JSON_PATH_MAX);
}

void json_member(const struct json_node *obj, const char *key, struct json_node *out)
{
	const struct yajl_val_s *v = yv(obj), *found = NULL;

	if (v && v->type == yajl_t_object) {
		/* the last of duplicate keys wins, as in Go's decoder (runc) */
		for (size_t i = v->u.object.len; i-- > 0;) {
			if (strcmp(v->u.object.keys[i], key) == 0) {
				found = v->u.object.values[i];
				break;
			}
		}
	}
	out->doc = obj->doc;
	member_path(out->path, obj->path, key);
	out->value = as_node_value(found);
}

void json_element(const struct json_node *arr, size_t index, struct json_node *out)
{
	const struct yajl_val_s *v = yv(arr), *found = NULL;
	char buf[JSON_PATH_MAX];

	if (v && v->type == yajl_t_array && index < v->u.array.len)
		found = v->u.array.values[index];
	set_path(buf, "%s[%zu]", arr->path, index);
	out->doc = arr->doc;
	memcpy(out->path, buf, JSON_PATH_MAX);
	out->value = as_node_value(found);
}

size_t json_array_len(const struct json_node *arr)
{
	const struct yajl_val_s *v = yv(arr);

	return v && v->type == yajl_t_array ? v->u.array.len : 0;
}

size_t json_object_len(const struct json_node *obj)
{
	const struct yajl_val_s *v = yv(obj);

	return v && v->type == yajl_t_object ? v->u.object.len : 0;
}

const char *json_object_entry(const struct json_node *obj, size_t index, struct json_node *out)
{
	const struct yajl_val_s *v = yv(obj);
	const char *key = NULL;

	out->doc = obj->doc;
	out->value = NULL;
	if (v && v->type == yajl_t_object && index < v->u.object.len) {
		key = v->u.object.keys[index];
		out->value = as_node_value(v->u.object.values[index]);
		member_path(out->path, obj->path, key);
	} else {
		memcpy(out->path, obj->path, JSON_PATH_MAX);
	}
	return key;
}

/* ---- checks and leaf getters ---- */

/* Resolves the (node, key) pair every getter takes. */
static const struct json_node *target(const struct json_node *node, const char *key,
				      struct json_node *scratch)
{
	if (!key)
		return node;
	json_member(node, key, scratch);
	return scratch;
}

static int want_type(const struct json_node *node, const char *key, yajl_type type,
		     const char *what, novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);

	if (json_present(n) && yv(n)->type != type)
		return json_error(n, err, "expected %s", what);
	return 0;
}

int json_want_object(const struct json_node *node, const char *key, novm_error_t *err)
{
	return want_type(node, key, yajl_t_object, "an object", err);
}

int json_want_array(const struct json_node *node, const char *key, novm_error_t *err)
{
	return want_type(node, key, yajl_t_array, "an array", err);
}

int json_require(const struct json_node *node, const char *key, novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);

	if (!json_present(n))
		return json_error(n, err, "missing");
	return 0;
}

int json_get_string(const struct json_node *node, const char *key, char **out,
		    novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);
	char *copy;

	if (!json_present(n))
		return 0;
	if (yv(n)->type != yajl_t_string)
		return json_error(n, err, "expected a string");
	copy = strdup(yv(n)->u.string);
	if (!copy)
		return novm_error(err, ENOMEM, "%s", n->path);
	*out = copy;
	return 1;
}

int json_get_bool(const struct json_node *node, const char *key, bool *out, novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);

	if (!json_present(n))
		return 0;
	if (yv(n)->type != yajl_t_true && yv(n)->type != yajl_t_false)
		return json_error(n, err, "expected true or false");
	*out = yv(n)->type == yajl_t_true;
	return 1;
}

/* Integers are read from the number's text: yajl's own conversion stops at
 * INT64_MAX, and OCI has uint64 fields (seccomp argument values). */
static int number_text(const struct json_node *n, const char **text, novm_error_t *err)
{
	const char *t;

	if (yv(n)->type != yajl_t_number)
		return json_error(n, err, "expected an integer");
	t = yv(n)->u.number.r;
	if (strpbrk(t, ".eE"))
		return json_error(n, err, "expected an integer, not %s", t);
	*text = t;
	return 0;
}

int json_get_i64(const struct json_node *node, const char *key, int64_t *out,
		 novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);
	const char *t;
	char *end;
	long long v;

	if (!json_present(n))
		return 0;
	if (number_text(n, &t, err) < 0)
		return -1;
	errno = 0;
	v = strtoll(t, &end, 10);
	if (errno || *end)
		return json_error(n, err, "integer %s out of range", t);
	*out = v;
	return 1;
}

int json_get_u64(const struct json_node *node, const char *key, uint64_t *out,
		 novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);
	const char *t;
	char *end;
	unsigned long long v;

	if (!json_present(n))
		return 0;
	if (number_text(n, &t, err) < 0)
		return -1;
	if (*t == '-')	/* strtoull() would wrap it around */
		return json_error(n, err, "expected a non-negative integer, not %s", t);
	errno = 0;
	v = strtoull(t, &end, 10);
	if (errno || *end)
		return json_error(n, err, "integer %s out of range", t);
	*out = v;
	return 1;
}

int json_get_u32(const struct json_node *node, const char *key, uint32_t *out,
		 novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);
	uint64_t v;
	int r = json_get_u64(n, NULL, &v, err);

	if (r <= 0)
		return r;
	if (v > UINT32_MAX)
		return json_error(n, err, "integer %" PRIu64 " out of range", v);
	*out = v;
	return 1;
}

int json_get_int(const struct json_node *node, const char *key, int *out, novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);
	int64_t v;
	int r = json_get_i64(n, NULL, &v, err);

	if (r <= 0)
		return r;
	if (v < INT_MIN || v > INT_MAX)
		return json_error(n, err, "integer %" PRId64 " out of range", v);
	*out = v;
	return 1;
}

int json_get_string_array(const struct json_node *node, const char *key, char ***out,
			  size_t *len, novm_error_t *err)
{
	struct json_node scratch;
	const struct json_node *n = target(node, key, &scratch);
	const struct yajl_val_s *v;
	char **items;
	size_t count;

	if (!json_present(n))
		return 0;
	v = yv(n);
	if (v->type != yajl_t_array)
		return json_error(n, err, "expected an array of strings");
	count = v->u.array.len;
	for (size_t i = 0; i < count; i++) {
		if (!v->u.array.values[i] || v->u.array.values[i]->type != yajl_t_string)
			return json_error(n, err, "expected an array of strings");
	}
	/* even an empty array gets a (NULL-only) vector: present, not absent */
	items = calloc(count + 1, sizeof(*items));
	if (!items)
		return novm_error(err, ENOMEM, "%s", n->path);
	for (size_t i = 0; i < count; i++) {
		items[i] = strdup(v->u.array.values[i]->u.string);
		if (!items[i]) {
			for (size_t j = 0; j < i; j++)
				free(items[j]);
			free(items);
			return novm_error(err, ENOMEM, "%s", n->path);
		}
	}
	*out = items;
	if (len)
		*len = count;
	return 1;
}
