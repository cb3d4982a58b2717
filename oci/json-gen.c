/* The writing half of the yajl binding behind json.h (json.c reads); with
 * json.c the only file that knows yajl. */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

struct json_gen {
	yajl_gen g;
	yajl_gen_status status;	/* the first failure */
	bool pretty, unbalanced;
	int depth;
};

struct json_gen *json_gen_new(const char *indent)
{
	struct json_gen *gen = calloc(1, sizeof(*gen));

	if (!gen)
		return NULL;
	gen->g = yajl_gen_alloc(NULL);
	if (!gen->g) {
		free(gen);
		return NULL;
	}
	/* never write a document we could not read back */
	yajl_gen_config(gen->g, yajl_gen_validate_utf8, 1);
	if (indent) {
		gen->pretty = true;
		yajl_gen_config(gen->g, yajl_gen_beautify, 1);
		yajl_gen_config(gen->g, yajl_gen_indent_string, indent);
	}
	return gen;
}

void json_gen_free(struct json_gen *gen)
{
	if (!gen)
		return;
	yajl_gen_free(gen->g);
	free(gen);
}

static void note(struct json_gen *gen, yajl_gen_status st)
{
	if (gen->status == yajl_gen_status_ok)
		gen->status = st;
}

void json_gen_object_open(struct json_gen *gen)
{
	if (!gen)
		return;
	gen->depth++;
	note(gen, yajl_gen_map_open(gen->g));
}

void json_gen_object_close(struct json_gen *gen)
{
	if (!gen)
		return;
	if (--gen->depth < 0)
		gen->unbalanced = true;
	note(gen, yajl_gen_map_close(gen->g));
}

void json_gen_array_open(struct json_gen *gen)
{
	if (!gen)
		return;
	gen->depth++;
	note(gen, yajl_gen_array_open(gen->g));
}

void json_gen_array_close(struct json_gen *gen)
{
	if (!gen)
		return;
	if (--gen->depth < 0)
		gen->unbalanced = true;
	note(gen, yajl_gen_array_close(gen->g));
}

void json_gen_string(struct json_gen *gen, const char *s)
{
	if (!gen)
		return;
	if (!s)
		note(gen, yajl_gen_null(gen->g));
	else
		note(gen, yajl_gen_string(gen->g, (const unsigned char *)s, strlen(s)));
}

void json_gen_key(struct json_gen *gen, const char *key)
{
	json_gen_string(gen, key);
}

void json_gen_i64(struct json_gen *gen, int64_t v)
{
	if (gen)
		note(gen, yajl_gen_integer(gen->g, v));
}

void json_gen_u64(struct json_gen *gen, uint64_t v)
{
	char buf[24];
	int n;

	if (!gen)
		return;
	if (v <= INT64_MAX) {
		note(gen, yajl_gen_integer(gen->g, (long long)v));
		return;
	}
	n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
	note(gen, yajl_gen_number(gen->g, buf, n));
}

void json_gen_bool(struct json_gen *gen, bool v)
{
	if (gen)
		note(gen, yajl_gen_bool(gen->g, v));
}

void json_gen_null(struct json_gen *gen)
{
	if (gen)
		note(gen, yajl_gen_null(gen->g));
}

void json_gen_string_array(struct json_gen *gen, char *const *items, size_t len)
{
	json_gen_array_open(gen);
	for (size_t i = 0; i < len; i++)
		json_gen_string(gen, items[i]);
	json_gen_array_close(gen);
}

void json_gen_member_string(struct json_gen *gen, const char *key, const char *s)
{
	json_gen_key(gen, key);
	json_gen_string(gen, s);
}

void json_gen_member_i64(struct json_gen *gen, const char *key, int64_t v)
{
	json_gen_key(gen, key);
	json_gen_i64(gen, v);
}

void json_gen_member_u64(struct json_gen *gen, const char *key, uint64_t v)
{
	json_gen_key(gen, key);
	json_gen_u64(gen, v);
}

void json_gen_member_bool(struct json_gen *gen, const char *key, bool v)
{
	json_gen_key(gen, key);
	json_gen_bool(gen, v);
}

static const char *gen_status_text(yajl_gen_status st)
{
	switch (st) {
	case yajl_gen_keys_must_be_strings:
		return "an object key that is not a string";
	case yajl_max_depth_exceeded:
		return "nesting too deep";
	case yajl_gen_in_error_state:
		return "generator in error state";
	case yajl_gen_generation_complete:
		return "more than one top-level value";
	case yajl_gen_invalid_number:
		return "invalid number";
	case yajl_gen_invalid_string:
		return "a string that is not valid UTF-8";
	default:
		return "generator failure";
	}
}

int json_gen_finish(struct json_gen *gen, const char *name, char **out, size_t *len,
		    novm_error_t *err)
{
	const unsigned char *buf;
	size_t n;
	char *text;

	if (!gen)
		return novm_error(err, ENOMEM, "%s", name);
	if (gen->status != yajl_gen_status_ok)
		return novm_error(err, 0, "%s: cannot write JSON: %s", name,
				  gen_status_text(gen->status));
	if (gen->unbalanced || gen->depth != 0)
		return novm_error(err, 0, "%s: cannot write JSON: unbalanced object or array", name);
	if (yajl_gen_get_buf(gen->g, &buf, &n) != yajl_gen_status_ok || n == 0)
		return novm_error(err, 0, "%s: cannot write JSON: empty document", name);
	text = malloc(n + 2);
	if (!text)
		return novm_error(err, ENOMEM, "%s", name);
	memcpy(text, buf, n);
	/* pretty output ends with a newline like any text file */
	if (gen->pretty && text[n - 1] != '\n')
		text[n++] = '\n';
	text[n] = '\0';
	*out = text;
	if (len)
		*len = n;
	return 0;
}
