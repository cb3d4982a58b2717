/* OCI hooks on the host (runtime/hooks.c): a hook gets the state on stdin,
 * failures name the phase, the hook and what it printed, a timeout kills
 * it, a missing program fails, warning-only phases go on; and the copy in
 * the state directory round-trips. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "runtime/hooks.h"
#include "tap.h"

static char dir[] = "/tmp/test-runtime-hooks.XXXXXX";

static struct oci_hook sh_hook(const char *script)
{
	struct oci_hook h = { .path = "/bin/sh" };
	static char *argv[8][4];
	static int n;
	char **a = argv[n++ % 8];

	a[0] = "sh", a[1] = "-c", a[2] = (char *)script, a[3] = NULL;
	h.args = (struct oci_strv){ a, 3 };
	return h;
}

static bool err_has(novm_error_t err, const char *text)
{
	return err && strstr(err->msg, text);
}

int main(void)
{
	struct oci_state oci = {
		.oci_version = "1.0.2", .id = "c1", .status = OCI_STATUS_CREATED, .pid = 42,
		.bundle = "/b",
	};
	struct ctr_state st = { .id = "c1", .oci = &oci, .status = "created" };
	novm_error_t err = NULL;
	char script[512], path[256], got[4096] = "";

	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP no temp dir\n");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/stdin", dir);

	snprintf(script, sizeof(script), "cat > %s", path);
	struct oci_hook ok_hook = sh_hook(script);
	struct oci_hook_list list = { &ok_hook, 1 };
	ok(hooks_run(&list, "createRuntime", &st, &err) == 0, "a hook that exits 0 passes");
	FILE *f = fopen(path, "r");
	if (f) {
		got[fread(got, 1, sizeof(got) - 1, f)] = '\0';
		fclose(f);
	}
	ok(strstr(got, "\"id\": \"c1\"") && strstr(got, "\"status\": \"created\"") &&
	   strstr(got, "\"pid\": 42") && strstr(got, "\"bundle\": \"/b\""),
	   "it got the state JSON on stdin");

	struct oci_hook failing = sh_hook("echo it is broken >&2; exit 3");
	list = (struct oci_hook_list){ &failing, 1 };
	ok(hooks_run(&list, "createRuntime", &st, &err) < 0 &&
	   err_has(err, "createRuntime hook /bin/sh: exit status 3: it is broken"),
	   "a failing hook names phase, hook, status and output (%s)", err ? err->msg : "");
	novm_error_release(&err);

	struct oci_hook slow = sh_hook("sleep 30");
	slow.has_timeout = true, slow.timeout = 1;
	list = (struct oci_hook_list){ &slow, 1 };
	ok(hooks_run(&list, "prestart", &st, &err) < 0 && err_has(err, "timed out after 1 s"),
	   "a hook past its timeout is killed (%s)", err ? err->msg : "");
	novm_error_release(&err);

	struct oci_hook missing = { .path = "/nonexistent/hook" };
	list = (struct oci_hook_list){ &missing, 1 };
	ok(hooks_run(&list, "poststart", &st, &err) < 0 && err_has(err, "exit status 127") &&
	   err_has(err, "No such file"), "a missing hook program fails (%s)", err ? err->msg : "");
	novm_error_release(&err);

	/* A daemon holding the output pipe must not keep us waiting. */
	struct oci_hook daemon = sh_hook("sleep 20 >/dev/stderr & exit 0");
	list = (struct oci_hook_list){ &daemon, 1 };
	time_t t0 = time(NULL);
	ok(hooks_run(&list, "createRuntime", &st, &err) == 0 && time(NULL) - t0 < 10,
	   "a hook that leaves a daemon holding its output returns when it exits");
	novm_error_release(&err);

	/* A hook that closes its output and keeps running is waited for
	 * without spinning. */
	struct oci_hook quiet = sh_hook("exec >&- 2>&-; sleep 2");
	struct rusage before, after;
	list = (struct oci_hook_list){ &quiet, 1 };
	getrusage(RUSAGE_SELF, &before);
	ok(hooks_run(&list, "createRuntime", &st, &err) == 0, "a hook that closed its output passes");
	getrusage(RUSAGE_SELF, &after);
	long spent_ms = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) * 1000 +
			(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1000 +
			(after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1000 +
			(after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1000;
	ok(spent_ms < 500, "and waiting 2 s for it cost %ld ms of CPU", spent_ms);
	novm_error_release(&err);

	/* Warning-only phases run every hook even after a failure. */
	snprintf(script, sizeof(script), "touch %s/after", dir);
	struct oci_hook two[] = { sh_hook("exit 1"), sh_hook(script) };
	list = (struct oci_hook_list){ two, 2 };
	hooks_run_warn(&list, "poststop", &st);
	snprintf(path, sizeof(path), "%s/after", dir);
	ok(access(path, F_OK) == 0, "poststop goes on after a failing hook");

	/* The copy in the state directory. */
	struct oci_hooks none = { 0 }, loaded;
	ok(hooks_save(dir, &none, "{}", 2, &err) == 0 && hooks_load(dir, &loaded, &err) == 0 &&
	   loaded.poststop.len == 0, "no hooks: nothing saved, nothing loaded");
	struct oci_hook saved = { .path = "/bin/true" };
	struct oci_hooks some = { .poststop = { &saved, 1 } };
	const char *config = "{\"hooks\": {\"poststop\": [{\"path\": \"/bin/true\", \"timeout\": 5}]}}";
	ok(hooks_save(dir, &some, config, strlen(config), &err) == 0 && hooks_load(dir, &loaded, &err) == 0 &&
	   loaded.poststop.len == 1 && !strcmp(loaded.poststop.hooks[0].path, "/bin/true") &&
	   loaded.poststop.hooks[0].timeout == 5,
	   "hooks saved at create load back");
	oci_hooks_release(&loaded);
	novm_error_release(&err);

	snprintf(script, sizeof(script), "rm -rf %s", dir);
	if (system(script) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
