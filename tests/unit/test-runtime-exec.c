/* The process an exec runs: config.json's process changed by runc exec's
 * flags, --process files, and the JSON sent to the agent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/control-client.h"
#include "runtime/exec-process.h"
#include "runtime/exec-session.h"
#include "tap.h"

static const char base_json[] =
	"{\"terminal\":true,\"user\":{\"uid\":5,\"gid\":6,\"additionalGids\":[7]},"
	"\"args\":[\"sh\"],\"env\":[\"PATH=/bin\",\"FOO=old\"],\"cwd\":\"/\","
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
	"\"permitted\":[\"CAP_KILL\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":100,\"soft\":50}],\"oomScoreAdj\":10}";

static bool has(const struct oci_strv *v, const char *item)
{
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->items[i], item))
			return true;
	return false;
}

static size_t count(const struct oci_strv *v, const char *item)
{
	size_t n = 0;
	for (size_t i = 0; i < v->len; i++)
		n += !strcmp(v->items[i], item);
	return n;
}

static void test_apply(const struct oci_process *base)
{
	char *args[] = { "sh", "-c", "echo hi", NULL };
	char *env[] = { "FOO=new", "BAR=1" };
	char *caps[] = { "CAP_NET_ADMIN", "CAP_KILL" };
	int64_t gids[] = { 100 };
	struct exec_flags f = {
		.args = args, .env = env, .n_env = 2, .cwd = "/tmp", .tty = false, .user = "1000:100",
		.additional_gids = gids, .n_additional_gids = 1, .caps = caps, .n_caps = 2,
		.has_no_new_privs = true, .no_new_privs = true,
	};
	struct oci_process p;
	novm_error_t err = NULL;

	ok(exec_process_apply(base, &f, &p, &err) == 0, "apply the flags");
	if (err) {
		printf("# %s\n", err->msg);
		novm_error_release(&err);
		return;
	}
	ok(p.args.len == 3 && !strcmp(p.args.items[2], "echo hi") && !p.args.items[3], "args replaced");
	ok(p.env.len == 3 && !strcmp(p.env.items[1], "FOO=new") && !strcmp(p.env.items[2], "BAR=1"),
	   "env: a repeated key takes the new value in place, a new one goes last");
	ok(!strcmp(p.cwd, "/tmp") && !p.terminal && p.no_new_privileges, "cwd, terminal = --tty, no-new-privs");
	ok(p.user.uid == 1000 && p.user.gid == 100 && p.user.n_additional_gids == 2 &&
		   p.user.additional_gids[0] == 7 && p.user.additional_gids[1] == 100,
	   "user uid:gid and additional gids appended");
	ok(has(&p.capabilities.bounding, "CAP_NET_ADMIN") && has(&p.capabilities.ambient, "CAP_NET_ADMIN") &&
		   has(&p.capabilities.inheritable, "CAP_NET_ADMIN") && count(&p.capabilities.bounding, "CAP_KILL") == 1,
	   "--cap joins every set once");
	ok(p.n_rlimits == 1 && p.rlimits[0].soft == 50 && p.has_oom_score_adj && p.oom_score_adj == 10,
	   "the rest of the container's process is kept");

	char *json = NULL;
	size_t len;
	struct oci_process back;
	ok(exec_process_json(&p, &json, &len, &err) == 0 && oci_process_parse("json", json, len, &back, &err) == 0,
	   "the JSON reads back as a process");
	if (!err) {
		ok(back.args.len == 3 && !strcmp(back.cwd, "/tmp") && back.user.uid == 1000 &&
			   back.user.n_additional_gids == 2 && has(&back.capabilities.permitted, "CAP_NET_ADMIN") &&
			   back.n_rlimits == 1 && back.no_new_privileges && !back.terminal && back.env.len == 3,
		   "... with every field");
		oci_process_release(&back);
	}
	novm_error_release(&err);
	free(json);
	oci_process_release(&p);
}

static bool apply_fails(const struct oci_process *base, struct exec_flags *f, const char *msg)
{
	struct oci_process p;
	novm_error_t err = NULL;
	bool r = exec_process_apply(base, f, &p, &err) < 0 && err && strstr(err->msg, msg);

	if (!r)
		printf("# %s\n", err ? err->msg : "(no error)");
	novm_error_release(&err);
	return r;
}

static void test_errors(const struct oci_process *base)
{
	char *args[] = { "true", NULL }, *none[] = { NULL };
	struct exec_flags f = { .args = none };

	ok(apply_fails(base, &f, "args must not be empty"), "no command");
	f.args = args;
	f.user = "bob";
	ok(apply_fails(base, &f, "parsing bob as int for uid failed"), "a user name is not a uid");
	f.user = "1:x";
	ok(apply_fails(base, &f, "for gid failed"), "a bad gid");
	f.user = NULL;
	f.cwd = "tmp";
	ok(apply_fails(base, &f, "cwd property must be an absolute path"), "a relative cwd");

	struct oci_process p;
	novm_error_t err = NULL;
	ok(oci_process_parse("p.json", "[1]", 3, &p, &err) < 0 && strstr(err->msg, "expected a process object"),
	   "a --process file that is not an object");
	novm_error_release(&err);
	ok(oci_process_parse("p.json", "{\"cwd\":\"/\"}", 11, &p, &err) < 0 && strstr(err->msg, "args"),
	   "a --process file without args names the field (%s)", err ? err->msg : "");
	novm_error_release(&err);
	ok(exec_process_load("/nonexistent/p.json", &p, &err) < 0, "a --process file that is missing");
	novm_error_release(&err);
}

/* The control protocol's answers as the runtime splits them. */
static void test_answers(void)
{
	novm_error_t err = NULL;
	const char *data = NULL;
	int status = -1, signo = -1;

	ok(ctl_parse_answer("ok", &data, &err) == 0 && !strcmp(data, ""), "\"ok\" alone");
	ok(ctl_parse_answer("ok 42", &data, &err) == 0 && !strcmp(data, "42"), "\"ok 42\": 42");
	ok(ctl_parse_answer("okay", &data, &err) < 0 && strstr(err->msg, "unexpected answer"),
	   "\"okay\" is not ok");
	novm_error_release(&err);
	ok(ctl_parse_answer("error no such file", &data, &err) < 0 &&
	   !strcmp(err->msg, "no such file"), "error's message");
	novm_error_release(&err);
	ok(ctl_parse_answer("error", &data, &err) < 0 && strstr(err->msg, "refused"),
	   "\"error\" alone: refused");
	novm_error_release(&err);
	ok(!ctl_answer_rest("errors x", CONTROL_ANS_ERROR) &&
	   !strcmp(ctl_answer_rest("error ", CONTROL_ANS_ERROR), ""), "the word ends at a space");
	ok(exec_parse_exit("exit 130 2", &status, &signo) && status == 130 && signo == 2,
	   "exit line");
	ok(!exec_parse_exit("exit 1 2 3", &status, &signo) && !exec_parse_exit("exit -1 0", &status, &signo),
	   "malformed exit lines refused");
}

int main(void)
{
	struct oci_process base;
	novm_error_t err = NULL;

	if (oci_process_parse("base", base_json, strlen(base_json), &base, &err) < 0) {
		printf("# %s\n", err->msg);
		return 1;
	}
	ok(base.terminal && base.user.uid == 5, "the container's process");
	test_apply(&base);
	test_errors(&base);
	test_answers();
	oci_process_release(&base);
	return tap_done();
}
