/* JSON reading and writing for the OCI model.  json.c (reading) and
 * json-gen.c (writing) are the only files that know the JSON library (yajl,
 * unmaintained upstream), so it can be swapped without touching the rest;
 * no library type appears here.
 *
 * Reading: a document is parsed into a tree; a `struct json_node` is a value
 * in it plus the path that leads there ("process.args[0]"), so every type
 * error names the document and the field:
 *   "config.json: process.args: expected an array of strings".
 * JSON null is treated as absent, like an omitted member. */
#ifndef NOVM_OCI_JSON_H
#define NOVM_OCI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define JSON_PATH_MAX 256
/* Deeper nesting is refused before building the tree: no OCI document comes
 * close, and the tree's recursive release must not exhaust the stack. */
#define JSON_MAX_DEPTH 64

struct json_doc;
struct json_value;

struct json_node {
	const struct json_doc *doc;
	const struct json_value *value;	/* NULL: absent or null */
	char path[JSON_PATH_MAX];	/* "" for the document root */
};

/* Parses `text` (len bytes, need not be NUL-terminated).  `name` labels the
 * document in errors ("config.json").  Syntax errors carry the parser's
 * message and the line:column: "config.json: invalid JSON at 3:14: lexical
 * error: invalid char in json text". */
int json_doc_parse(const char *name, const char *text, size_t len, struct json_doc **out,
		   novm_error_t *err);
void json_doc_free(struct json_doc *doc);

static inline void cleanup_json_doc_fn(struct json_doc **doc)
{
	json_doc_free(*doc);
}
#define cleanup_json_doc __attribute__((cleanup(cleanup_json_doc_fn)))

void json_doc_root(const struct json_doc *doc, struct json_node *out);

static inline bool json_present(const struct json_node *node)
{
	return node->value != NULL;
}

/* Sets *err to "<document>: <path>: <message>"; returns -1. */
int json_error(const struct json_node *node, novm_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Navigation.  These never fail: a missing member, an index past the end or
 * a parent of the wrong type give an absent node (check types first with
 * json_want_*() where the difference matters). */
void json_member(const struct json_node *obj, const char *key, struct json_node *out);
void json_element(const struct json_node *arr, size_t index, struct json_node *out);
size_t json_array_len(const struct json_node *arr);
size_t json_object_len(const struct json_node *obj);
/* The index-th member of an object, in document order; returns its key. */
const char *json_object_entry(const struct json_node *obj, size_t index, struct json_node *out);

/* Type checks of `node`, or of its member `key` when key is not NULL.  An
 * absent value passes (optional fields); json_require() is the check for
 * presence ("<path>: missing"). */
int json_want_object(const struct json_node *node, const char *key, novm_error_t *err);
int json_want_array(const struct json_node *node, const char *key, novm_error_t *err);
int json_require(const struct json_node *node, const char *key, novm_error_t *err);

/* Leaf getters: read `node`, or its member `key` when key is not NULL.
 * Return 1 when the value was present and stored, 0 when absent (*out
 * untouched), -1 with an error naming the path on a type or range error.
 * Strings are heap copies; string arrays are NULL-terminated heap arrays.
 * A stored value replaces *out without freeing it: pass empty outputs. */
int json_get_string(const struct json_node *node, const char *key, char **out,
		    novm_error_t *err);
int json_get_bool(const struct json_node *node, const char *key, bool *out, novm_error_t *err);
int json_get_i64(const struct json_node *node, const char *key, int64_t *out,
		 novm_error_t *err);
int json_get_u64(const struct json_node *node, const char *key, uint64_t *out,
		 novm_error_t *err);
int json_get_u32(const struct json_node *node, const char *key, uint32_t *out,
		 novm_error_t *err);
int json_get_int(const struct json_node *node, const char *key, int *out, novm_error_t *err);
int json_get_string_array(const struct json_node *node, const char *key, char ***out,
			  size_t *len, novm_error_t *err);

/* Writing.  Calls record the first failure (out of memory, invalid UTF-8,
 * unbalanced nesting) and json_gen_finish() reports it, so a generator can
 * be driven without checking every call. */
struct json_gen;

/* indent NULL: compact output; otherwise pretty-printed with that indent
 * string and a final newline.  Returns NULL when out of memory. */
struct json_gen *json_gen_new(const char *indent);
void json_gen_free(struct json_gen *gen);

static inline void cleanup_json_gen_fn(struct json_gen **gen)
{
	json_gen_free(*gen);
}
#define cleanup_json_gen __attribute__((cleanup(cleanup_json_gen_fn)))

void json_gen_object_open(struct json_gen *gen);
void json_gen_object_close(struct json_gen *gen);
void json_gen_array_open(struct json_gen *gen);
void json_gen_array_close(struct json_gen *gen);
void json_gen_key(struct json_gen *gen, const char *key);
void json_gen_string(struct json_gen *gen, const char *s);	/* NULL writes null */
void json_gen_i64(struct json_gen *gen, int64_t v);
void json_gen_u64(struct json_gen *gen, uint64_t v);
void json_gen_bool(struct json_gen *gen, bool v);
void json_gen_null(struct json_gen *gen);
void json_gen_string_array(struct json_gen *gen, char *const *items, size_t len);

/* Members of the open object: key then value. */
void json_gen_member_string(struct json_gen *gen, const char *key, const char *s);
void json_gen_member_i64(struct json_gen *gen, const char *key, int64_t v);
void json_gen_member_u64(struct json_gen *gen, const char *key, uint64_t v);
void json_gen_member_bool(struct json_gen *gen, const char *key, bool v);

/* Hands out the text (NUL-terminated heap copy) once every container is
 * closed; `name` labels errors ("state.json"). */
int json_gen_finish(struct json_gen *gen, const char *name, char **out, size_t *len,
		    novm_error_t *err);

#endif
