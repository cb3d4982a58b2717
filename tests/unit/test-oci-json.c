/* The JSON layer under the OCI model: syntax errors with positions, typed
 * getters whose errors name the path, and the generator. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "oci/json.h"

static struct json_doc *parse(const char *text, novm_error_t *err)
{
	struct json_doc *doc = NULL;

	if (json_doc_parse("test.json", text, strlen(text), &doc, err) < 0)
		return NULL;
	return doc;
}

static void expect_parse_error(const char *text, const char *want, const char *what)
{
	novm_error_t err = NULL;
	struct json_doc *doc = parse(text, &err);

	ok(!doc && err && strcmp(err->msg, want) == 0, "%s: %s", what, err ? err->msg : "(parsed)");
	json_doc_free(doc);
	novm_error_release(&err);
}

static void test_syntax_errors(void)
{
	char deep[2 * JSON_MAX_DEPTH + 8];
	novm_error_t err = NULL;
	struct json_doc *doc;

	expect_parse_error("{\"a\": 1,\n  \"b\": x}",
			   "test.json: invalid JSON at line 2, column 8: lexical error: invalid char in json text",
			   "bad token: line and column of the offending character");
	expect_parse_error("{\"a\": [1, 2",
			   "test.json: invalid JSON at line 1, column 12: parse error: premature EOF",
			   "truncated document: position at the end");
	expect_parse_error("{\"a\": 1} {",
			   "test.json: invalid JSON at line 1, column 10: parse error: trailing garbage",
			   "trailing garbage");
	expect_parse_error("", "test.json: invalid JSON at line 1, column 1: parse error: premature EOF",
			   "empty document");
	expect_parse_error("[\"\xff\"]",
			   "test.json: invalid JSON at line 1, column 3: lexical error: invalid bytes in UTF8 string",
			   "invalid UTF-8 rejected");

	/* one level too deep is refused before any tree exists */
	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	deep[2 * JSON_MAX_DEPTH + 2] = '\0';
	doc = parse(deep, &err);
	ok(!doc && err && strstr(err->msg, "nesting deeper than 64 levels"),
	   "nesting limit: %s", err ? err->msg : "(parsed)");
	novm_error_release(&err);
	deep[JSON_MAX_DEPTH] = ' ';
	deep[JSON_MAX_DEPTH + 1] = ' ';
	doc = parse(deep, &err);
	ok(doc != NULL, "exactly %d levels are fine", JSON_MAX_DEPTH);
	json_doc_free(doc);

	doc = parse("/* comment */ {\"a\": 1}", &err);
	ok(doc != NULL, "comments accepted (as yajl_tree_parse does)");
	json_doc_free(doc);

	/* not NUL-terminated: only len bytes count */
	ok(json_doc_parse("t", "{}garbage", 2, &doc, &err) == 0, "length bounds the input");
	json_doc_free(doc);
}

static void test_getters(void)
{
	const char *text =
		"{\"s\": \"str\", \"b\": true, \"n\": -5, \"big\": 18446744073709551615,"
		" \"f\": 1.5, \"null\": null, \"arr\": [\"x\", \"y\"], \"mixed\": [\"x\", 1],"
		" \"obj\": {\"inner\": [10, {\"deep\": \"v\"}]}, \"dup\": 1, \"dup\": 2,"
		" \"org.novm.cpus\": 7, \"u32\": 4294967296, \"empty\": []}";
	novm_error_t err = NULL;
	struct json_doc *doc = parse(text, &err);
	struct json_node root, node, elem;
	char *s = NULL, **v = NULL;
	bool b = false;
	int64_t i = 0;
	uint64_t u = 0;
	uint32_t u32 = 0;
	int n = 0;
	size_t len = 0;

	ok(doc != NULL, "document parsed");
	if (!doc)
		return;
	json_doc_root(doc, &root);

	ok(json_get_string(&root, "s", &s, &err) == 1 && strcmp(s, "str") == 0, "string");
	free(s);
	s = NULL;
	ok(json_get_string(&root, "missing", &s, &err) == 0 && !s, "absent member: 0, out untouched");
	ok(json_get_string(&root, "null", &s, &err) == 0 && !s, "null reads as absent");
	ok(json_get_bool(&root, "b", &b, &err) == 1 && b, "bool");
	ok(json_get_i64(&root, "n", &i, &err) == 1 && i == -5, "negative integer");
	ok(json_get_u64(&root, "big", &u, &err) == 1 && u == UINT64_MAX,
	   "uint64 maximum read exactly (beyond yajl's own integers)");
	ok(json_get_int(&root, "dup", &n, &err) == 1 && n == 2, "duplicate key: the last wins");

	ok(json_get_u64(&root, "n", &u, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: n: expected a non-negative integer, not -5") == 0,
	   "negative for unsigned: %s", err ? err->msg : "");
	novm_error_release(&err);
	ok(json_get_i64(&root, "f", &i, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: f: expected an integer, not 1.5") == 0,
	   "fraction refused: %s", err ? err->msg : "");
	novm_error_release(&err);
	ok(json_get_i64(&root, "big", &i, &err) < 0 && err && strstr(err->msg, "out of range"),
	   "int64 overflow: %s", err ? err->msg : "");
	novm_error_release(&err);
	ok(json_get_u32(&root, "u32", &u32, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: u32: integer 4294967296 out of range") == 0,
	   "uint32 overflow: %s", err ? err->msg : "");
	novm_error_release(&err);
	ok(json_get_bool(&root, "s", &b, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: s: expected true or false") == 0, "bool type error");
	novm_error_release(&err);
	ok(json_get_string(&root, "n", &s, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: n: expected a string") == 0, "string type error");
	novm_error_release(&err);

	ok(json_get_string_array(&root, "arr", &v, &len, &err) == 1 && len == 2 &&
	   strcmp(v[0], "x") == 0 && strcmp(v[1], "y") == 0 && v[2] == NULL,
	   "string array, NULL-terminated");
	for (size_t k = 0; v && k < len; k++)
		free(v[k]);
	free(v);
	v = NULL;
	ok(json_get_string_array(&root, "empty", &v, &len, &err) == 1 && v && !v[0] && len == 0,
	   "empty array is present, not absent");
	free(v);
	v = NULL;
	ok(json_get_string_array(&root, "mixed", &v, &len, &err) < 0 && !v && err &&
	   strcmp(err->msg, "test.json: mixed: expected an array of strings") == 0,
	   "mixed array: %s", err ? err->msg : "");
	novm_error_release(&err);

	json_member(&root, "obj", &node);
	json_member(&node, "inner", &node);	/* aliasing in and out is allowed */
	ok(json_array_len(&node) == 2 && strcmp(node.path, "obj.inner") == 0, "nested path");
	json_element(&node, 1, &elem);
	ok(json_get_i64(&elem, "deep", &i, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: obj.inner[1].deep: expected an integer") == 0,
	   "error names the full path: %s", err ? err->msg : "");
	novm_error_release(&err);
	json_element(&node, 5, &elem);
	ok(!json_present(&elem), "index past the end is absent");
	ok(json_want_object(&node, NULL, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: obj.inner: expected an object") == 0, "want_object");
	novm_error_release(&err);
	ok(json_require(&root, "nope", &err) < 0 && err &&
	   strcmp(err->msg, "test.json: nope: missing") == 0, "require");
	novm_error_release(&err);
	ok(json_get_string(&root, "org.novm.cpus", &s, &err) < 0 && err &&
	   strcmp(err->msg, "test.json: [\"org.novm.cpus\"]: expected a string") == 0,
	   "dotted key quoted in the path: %s", err ? err->msg : "");
	novm_error_release(&err);

	ok(json_object_len(&root) == 14, "object length counts every member");
	ok(strcmp(json_object_entry(&root, 0, &node), "s") == 0 && json_present(&node),
	   "entries in document order");
	json_doc_free(doc);
}

static char *generate(struct json_gen *gen, novm_error_t *err)
{
	char *out = NULL;

	if (json_gen_finish(gen, "out", &out, NULL, err) < 0)
		out = NULL;
	json_gen_free(gen);
	return out;
}

static void test_generator(void)
{
	novm_error_t err = NULL;
	struct json_gen *gen = json_gen_new(NULL);
	char *items[] = { "a", "b\"\n\\", NULL };
	char *out;

	json_gen_object_open(gen);
	json_gen_member_string(gen, "s", "x/y");
	json_gen_member_i64(gen, "i", -3);
	json_gen_member_u64(gen, "u", UINT64_MAX);
	json_gen_member_bool(gen, "b", false);
	json_gen_key(gen, "n");
	json_gen_null(gen);
	json_gen_key(gen, "v");
	json_gen_string_array(gen, items, 2);
	json_gen_object_close(gen);
	out = generate(gen, &err);
	ok(out && strcmp(out, "{\"s\":\"x/y\",\"i\":-3,\"u\":18446744073709551615,\"b\":false,"
			      "\"n\":null,\"v\":[\"a\",\"b\\\"\\n\\\\\"]}") == 0,
	   "compact output: %s", out ? out : err->msg);

	/* what we write reads back the same */
	struct json_doc *doc = out ? parse(out, &err) : NULL;
	struct json_node root;
	char *s = NULL;
	uint64_t u = 0;

	if (doc) {
		json_doc_root(doc, &root);
		json_member(&root, "v", &root);
		json_element(&root, 1, &root);
		json_get_string(&root, NULL, &s, &err);
	}
	ok(s && strcmp(s, items[1]) == 0, "escapes round-trip");
	json_doc_root(doc, &root);
	ok(doc && json_get_u64(&root, "u", &u, &err) == 1 && u == UINT64_MAX, "uint64 round-trips");
	free(s);
	json_doc_free(doc);
	free(out);

	gen = json_gen_new("  ");
	json_gen_object_open(gen);
	json_gen_member_string(gen, "a", "b");
	json_gen_object_close(gen);
	out = generate(gen, &err);
	ok(out && strcmp(out, "{\n  \"a\": \"b\"\n}\n") == 0, "pretty output ends in a newline");
	free(out);

	gen = json_gen_new(NULL);
	json_gen_array_open(gen);
	json_gen_string(gen, "bad \xc3");
	json_gen_array_close(gen);
	out = generate(gen, &err);
	ok(!out && err && strcmp(err->msg, "out: cannot write JSON: a string that is not valid UTF-8") == 0,
	   "invalid UTF-8 refused: %s", err ? err->msg : out);
	novm_error_release(&err);

	gen = json_gen_new(NULL);
	json_gen_object_open(gen);
	json_gen_member_string(gen, "a", "b");
	out = generate(gen, &err);
	ok(!out && err && strstr(err->msg, "unbalanced"), "unclosed object refused");
	novm_error_release(&err);

	gen = json_gen_new(NULL);
	json_gen_object_open(gen);
	json_gen_i64(gen, 1);	/* a value where a key belongs */
	json_gen_object_close(gen);
	out = generate(gen, &err);
	ok(!out && err && strstr(err->msg, "not a string"), "non-string key refused: %s",
	   err ? err->msg : "");
	novm_error_release(&err);

	ok(json_gen_finish(NULL, "x", &out, NULL, &err) < 0 && err, "a failed allocation is reported");
	novm_error_release(&err);
}

int main(void)
{
	test_syntax_errors();
	test_getters();
	test_generator();
	return tap_done();
}
