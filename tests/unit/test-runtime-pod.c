/* Pods: which container a spec is (the CRI annotations), graft names, the
 * pod record in the state, and the commands on a pod container against a
 * fake sandbox VMM (test-runtime-fake-vmm.h): create with real open_tree
 * grafts and a host process that ends with the container's status, the
 * routing of start, ps, events, exec, kill and delete with "in <session>",
 * and bad sandboxes that leave nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "runtime/exec-session.h"
#include "runtime/pod-spec.h"
#include "runtime/pod.h"
#include "tap.h"
#include "test-runtime-cmd.h"
#include "test-runtime-fake-vmm.h"

static const char *role_name(enum pod_role r)
{
	return r == POD_ROLE_SANDBOX ? "sandbox" : r == POD_ROLE_CONTAINER ? "container" : "none";
}

/* "" for an error, else "<role>[ <sandbox>]". */
static const char *classify(const char *annotations)
{
	static char out[256];
	char text[1024];
	struct oci_spec *spec = NULL;
	novm_error_t err = NULL;
	enum pod_role role;
	const char *sandbox;

	snprintf(text, sizeof(text),
		 "{\"ociVersion\":\"1.2.1\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
		 "\"root\":{\"path\":\"rootfs\"},\"annotations\":{%s}}",
		 annotations);
	if (oci_spec_parse(NULL, text, strlen(text), &spec, &err) < 0) {
		snprintf(out, sizeof(out), "bad spec: %s", err->msg);
	} else if (pod_classify(spec, &role, &sandbox, &err) < 0) {
		printf("# %s\n", err->msg);
		out[0] = '\0';
	} else {
		snprintf(out, sizeof(out), "%s%s%s", role_name(role), sandbox ? " " : "", sandbox ? sandbox : "");
	}
	novm_error_release(&err);
	oci_spec_free(spec);
	return out;
}

#define CTRD_TYPE "\"io.kubernetes.cri.container-type\":"
#define CTRD_SB "\"io.kubernetes.cri.sandbox-id\":"
#define CRIO_TYPE "\"io.kubernetes.cri-o.ContainerType\":"
#define CRIO_SB "\"io.kubernetes.cri-o.SandboxID\":"

static void test_classify(void)
{
	ok(!strcmp(classify("\"a\":\"b\""), "none"), "no CRI annotation: a container of its own");
	ok(!strcmp(classify(CTRD_TYPE "\"sandbox\"," CTRD_SB "\"p1\""), "sandbox"), "containerd: sandbox");
	ok(!strcmp(classify(CTRD_TYPE "\"container\"," CTRD_SB "\"p1\""), "container p1"),
	   "containerd: container of sandbox p1");
	ok(!strcmp(classify(CRIO_TYPE "\"sandbox\""), "sandbox"), "CRI-O: sandbox");
	ok(!strcmp(classify(CRIO_TYPE "\"container\"," CRIO_SB "\"p2\""), "container p2"),
	   "CRI-O: container of sandbox p2");
	ok(!strcmp(classify(CTRD_TYPE "\"container\"," CTRD_SB "\"p1\"," CRIO_TYPE "\"container\"," CRIO_SB "\"p1\""),
		   "container p1"),
	   "both runtimes' annotations agreeing");
	ok(!strcmp(classify(CTRD_SB "\"p1\""), "none"), "a sandbox id without a type: no pod");
	ok(!*classify(CTRD_TYPE "\"container\""), "a container without a sandbox id: error");
	ok(!*classify(CRIO_TYPE "\"container\"," CRIO_SB "\"\""), "an empty sandbox id: error");
	ok(!*classify(CTRD_TYPE "\"podsandbox\""), "an unknown type: error");
	ok(!*classify(CTRD_TYPE "\"sandbox\"," CRIO_TYPE "\"container\"," CRIO_SB "\"p\""),
	   "the two runtimes disagreeing on the type: error");
	ok(!*classify(CTRD_TYPE "\"container\"," CTRD_SB "\"p1\"," CRIO_TYPE "\"container\"," CRIO_SB "\"p2\""),
	   "... or on the sandbox: error");
}

static void test_graft_names(void)
{
	char prefix[POD_GRAFT_NAME_SIZE], other[POD_GRAFT_NAME_SIZE], name[POD_GRAFT_NAME_SIZE];
	char hex[65], longid[1025];
	novm_error_t err = NULL;

	pod_graft_prefix("web-1", prefix);
	ok(!strcmp(prefix, "web-1.") && pod_graft_name(prefix, 3, name, &err) == 0 && !strcmp(name, "web-1.3"),
	   "a plain id is its own short id: web-1.3 (%s)", name);
	memset(hex, 'a', 64);
	hex[64] = '\0';
	pod_graft_prefix(hex, prefix);
	ok(strlen(prefix) == 65 && !strncmp(prefix, hex, 64), "a 64-hex CRI id stays whole");
	pod_graft_prefix("a.b_c+d", prefix);
	ok(!strcmp(prefix, "a_2eb_5fc_2bd."), "dots, underscores and pluses escaped (%s)", prefix);
	pod_graft_prefix("a", prefix);
	pod_graft_prefix("a.0", other);
	ok(strncmp(other, prefix, strlen(prefix)) != 0, "ungraft of `a.` cannot take `a.0`'s grafts (%s)", other);
	pod_graft_prefix("a_2e0", other);
	pod_graft_prefix("a.0", prefix);
	ok(strcmp(other, prefix) != 0, "escaping is one to one (%s vs %s)", other, prefix);
	memset(longid, 'x', 1024);
	longid[1024] = '\0';
	pod_graft_prefix(longid, prefix);
	longid[0] = 'y';
	pod_graft_prefix(longid, other);
	ok(!strncmp(prefix, "_h", 2) && strlen(prefix) == 35 && strcmp(prefix, other) != 0 &&
		   pod_graft_name(prefix, POD_MAX_SHARES - 1, name, &err) == 0 && pod_graft_name_valid(name),
	   "a long id: a hash, still a valid name (%s)", name);
	memset(longid, '.', 200);
	longid[200] = '\0';
	pod_graft_prefix(longid, prefix);
	ok(pod_graft_name(prefix, 0, name, &err) == 0 && strlen(name) <= CONTROL_MAX_GRAFT_NAME,
	   "an id whose escaped form does not fit: hashed");
	ok(pod_graft_name("x.", POD_MAX_SHARES, name, &err) < 0, "too many shares: error");
	novm_error_release(&err);
	ok(!pod_graft_name_valid(".") && !pod_graft_name_valid("..") && !pod_graft_name_valid("") &&
		   !pod_graft_name_valid("a/b") && !pod_graft_name_valid("a+b") && pod_graft_name_valid("a.b_-9"),
	   "the graft name rule of proto/control.h");
}

static void test_record(void)
{
	novm_error_t err = NULL;
	struct ctr_state st;
	char path[512];
	pid_t host = sleeper();
	char *dir = make_container("rec", host);
	const struct pod_record sandbox = { .role = POD_ROLE_SANDBOX };
	const struct pod_record member = { .role = POD_ROLE_CONTAINER, .sandbox = (char *)"sb9", .session = 12 };

	ok(state_load(root, "rec", &st, &err) == 0 && st.pod.role == POD_ROLE_NONE, "no pod.json: no pod");
	ctr_state_release(&st);
	ok(state_write_pod(dir, &sandbox, &err) == 0 && state_load(root, "rec", &st, &err) == 0 &&
		   st.pod.role == POD_ROLE_SANDBOX && !st.pod.sandbox,
	   "a sandbox's record");
	ctr_state_release(&st);
	snprintf(path, sizeof(path), "%s/sb9", root);
	ok(state_write_pod(dir, &member, &err) == 0 && state_load(root, "rec", &st, &err) == 0 &&
		   st.pod.role == POD_ROLE_CONTAINER && !strcmp(st.pod.sandbox, "sb9") && st.pod.session == 12 &&
		   !strcmp(st.pod.sandbox_dir, path) && st.oci->pid == host && !strcmp(st.status, "created"),
	   "a pod container's: sandbox, session, the sandbox's directory; its host process is its pid");
	ctr_state_release(&st);
	snprintf(path, sizeof(path), "%s/pod.json", dir);
	write_file_atomic(path, "{\"role\":\"container\",\"sandbox\":\"../x\"}", 37, 0600, NULL);
	ok(state_load(root, "rec", &st, &err) < 0 && strstr(err->msg, "not a pod record"),
	   "a record naming no valid sandbox id is refused");
	novm_error_release(&err);
	write_file_atomic(path, "{\"role\":\"container\",\"sandbox\":\"sb9\"}", 36, 0600, NULL);
	ok(state_load(root, "rec", &st, &err) == 0 && ctr_call(&st, "start", NULL, &err) < 0 &&
		   strstr(err->msg, "no session"),
	   "a pod container without a session yet has no requests (session 0 is the sandbox's)");
	novm_error_release(&err);
	ok(pod_refuse(&st, "pause", &err) < 0 && !strcmp(err->msg, "pause is not supported for a pod container yet"),
	   "pause of a pod container: a clear error");
	novm_error_release(&err);
	ctr_state_release(&st);
	kill(host, SIGKILL);
	waitpid(host, NULL, 0);
	state_remove_dir(dir);
	free(dir);
}

static struct fake_vmm fake;

static const char *pod_replies(const char *request)
{
	if (!strncmp(request, "ungraft ", 8))
		return "ok 3";
	if (!strcmp(request, "in 5 ps"))
		return "ok [{\"pid\":1,\"ppid\":0,\"uid\":0,\"cmd\":\"pod-sleep 1000\"}]";
	if (!strcmp(request, "in 5 stats"))
		return "ok {\"memory\":{\"total\":1000,\"available\":500,\"usage\":500},\"cpu\":{\"usage\":123}}";
	if (!strcmp(request, "in 5 start"))
		return "ok 7";
	return "ok";
}

static bool requested(const char *want)
{
	bool found = false;

	pthread_mutex_lock(&fake.lock);
	for (int i = 0; i < fake.n_requests && !found; i++)
		found = !strcmp(fake.requests[i], want);
	pthread_mutex_unlock(&fake.lock);
	if (!found)
		printf("# not requested: %s (last: %s)\n", want, fake_last(&fake));
	return found;
}

/* A bundle: a read-only root, a writable directory and a read-only file
 * bound in; the pod annotations naming `sandbox`. */
static char *make_bundle(const char *name, const char *sandbox)
{
	char *bundle = NULL, path[512], config[2048];

	if (asprintf(&bundle, "%s/%s", root, name) < 0)
		exit(99);
	mkdir(bundle, 0700);
	snprintf(path, sizeof(path), "%s/rootfs", bundle);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/data", bundle);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/hostname", bundle);
	write_file_atomic(path, "pod\n", 4, 0644, NULL);
	int n = snprintf(config, sizeof(config),
			 "{\"ociVersion\":\"1.2.1\",\"process\":{\"args\":[\"sleep\",\"1000\"],\"cwd\":\"/\","
			 "\"user\":{\"uid\":0,\"gid\":0}},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
			 "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
			 "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s/data\",\"options\":[\"rbind\"]},"
			 "{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":\"%s/hostname\","
			 "\"options\":[\"rbind\",\"ro\"]}],"
			 "\"annotations\":{" CTRD_TYPE "\"container\"," CTRD_SB "\"%s\"}}",
			 bundle, bundle, sandbox);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	write_file_atomic(path, config, n, 0644, NULL);
	return bundle;
}

static bool readonly_fd(int fd)
{
	struct statvfs sv;
	return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static void test_create_and_route(void)
{
	char pid_file[512], *text = NULL, *out = NULL;
	char *bundle = make_bundle("b1", "sb");
	struct ctr_state st;
	int status = -1;

	snprintf(pid_file, sizeof(pid_file), "%s/c1.pid", root);
	ok(RUN(cmd_create, "create", "--bundle", bundle, "--pid-file", pid_file, "c1") == 0,
	   "create a pod container in sandbox sb");
	ok(requested("graft c1.0") && requested("graft c1.1") && requested("graft c1.2"),
	   "its root, directory and file became grafts c1.0, c1.1, c1.2");
	struct stat root_st, file_st;
	ok(fake.n_passed_fds == 3 && fstat(fake.passed_fds[0], &root_st) == 0 && S_ISDIR(root_st.st_mode) &&
		   fstat(fake.passed_fds[2], &file_st) == 0 && S_ISREG(file_st.st_mode),
	   "each graft passed one fd: directories, and the file itself");
	ok(fake.n_passed_fds == 3 && !readonly_fd(fake.passed_fds[1]) && readonly_fd(fake.passed_fds[2]),
	   "a read-only bind is a read-only tree, a writable one is not");
	ok(fake.n_passed_fds == 3 && readonly_fd(fake.passed_fds[0]),
	   "the read-only root was sealed once the container was created");
	ok(strstr(fake.exec_json, "{\"id\":\"c1\",\"config\":{") &&
		   strstr(fake.exec_json, "{\"tag\":\"novm-pod\",\"destination\":\"/\",\"path\":\"c1.0\",\"readonly\":true}") &&
		   strstr(fake.exec_json, "\"destination\":\"/etc/hostname\"") &&
		   strstr(fake.exec_json, "\"path\":\"c1.2\",\"readonly\":true}"),
	   "the container request: id, config, the shares by graft name");
	ok(fake.exec_nfds == 3, "... with create's stdio");
	pid_t host = 0;
	if (read_file(pid_file, &text, NULL, NULL) == 0)
		host = atoi(text);
	free(text);
	ok(host > 0 && proc_alive(host, 0) && state_load(root, "c1", &st, NULL) == 0, "the host process runs");
	if (host > 0 && st.oci) {
		ok(st.oci->pid == host && !strcmp(st.status, "created") && st.pod.session == 5 &&
			   !strcmp(st.pod.sandbox, "sb"),
		   "state: created, pid = the host process, session 5 of sb");
		ctr_state_release(&st);
	}

	ok(RUN(cmd_start, "start", "c1") == 0 && requested("in 5 start") && !strcmp(status_of("c1"), "running"),
	   "start: `in 5 start`, running");
	OUTPUT(out, status, cmd_ps, "ps", "c1");
	ok(status == 0 && requested("in 5 ps") && strstr(out, "pod-sleep 1000"), "ps: `in 5 ps`");
	free(out);
	OUTPUT(out, status, cmd_events, "events", "--stats", "c1");
	ok(status == 0 && requested("in 5 stats") && strstr(out, "\"id\":\"c1\""), "events --stats: `in 5 stats`");
	free(out);
	ok(RUN(cmd_pause, "pause", "c1") == 1 && RUN(cmd_update, "update", "--memory", "100m", "c1") == 1 &&
		   !strcmp(status_of("c1"), "running"),
	   "pause and update refused");

	char process[512], exec_pid_file[512];
	snprintf(process, sizeof(process), "%s/pod-process.json", root);
	snprintf(exec_pid_file, sizeof(exec_pid_file), "%s/exec.pid", root);
	const char *json = "{\"args\":[\"echo\",\"hi\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}";
	write_file_atomic(process, json, strlen(json), 0600, NULL);
	ok(RUN(cmd_exec, "exec", "--detach", "--pid-file", exec_pid_file, "-p", process, "c1") == 0,
	   "exec --detach in the pod container");
	bool routed = false;
	pthread_mutex_lock(&fake.lock);
	for (int i = 0; i < fake.n_requests; i++)
		routed |= !strncmp(fake.requests[i], "in 5 exec ", 10);
	pthread_mutex_unlock(&fake.lock);
	ok(routed, "... as `in 5 exec <len>`");
	text = NULL;
	pid_t proxy = read_file(exec_pid_file, &text, NULL, NULL) == 0 ? atoi(text) : 0;
	free(text);
	if (proxy > 0) {
		kill(proxy, SIGTERM);
		waitpid(proxy, NULL, 0);
	}

	/* The fake ends the container's session on its kill: "exit 3 0". */
	ok(RUN(cmd_kill, "kill", "c1", "TERM") == 0 && requested("in 5 kill 15"), "kill: `in 5 kill 15`");
	status = -1;
	if (host > 0)
		waitpid(host, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3,
	   "the host process exits with the container's status (%d)", status);
	ok(!strcmp(status_of("c1"), "stopped"), "stopped");
	ok(RUN(cmd_delete, "delete", "c1") == 0 && requested("ungraft c1.") && !strcmp(status_of("c1"), "gone"),
	   "delete: `ungraft c1.`, the state is gone");
	free(bundle);
}

static void test_force_delete(void)
{
	char *bundle = make_bundle("b3", "sb"), pid_file[512], *text = NULL;
	int status = -1;

	snprintf(pid_file, sizeof(pid_file), "%s/c3.pid", root);
	ok(RUN(cmd_create, "create", "--bundle", bundle, "--pid-file", pid_file, "c3") == 0 &&
		   RUN(cmd_start, "start", "c3") == 0,
	   "a second pod container runs");
	pid_t host = read_file(pid_file, &text, NULL, NULL) == 0 ? atoi(text) : 0;
	free(text);
	ok(RUN(cmd_delete, "delete", "c3") == 1 && !strcmp(status_of("c3"), "running"),
	   "delete without --force of a running one fails");
	ok(RUN(cmd_delete, "delete", "--force", "c3") == 0 && requested("in 5 kill 9 all") &&
		   requested("ungraft c3.") && !strcmp(status_of("c3"), "gone"),
	   "delete --force: `in 5 kill 9 all`, `ungraft c3.`, gone");
	/* delete reaped it: create forked it from this process. */
	ok(host > 0 && !proc_alive(host, 0) && waitpid(host, &status, WNOHANG) < 0, "its host process ended");
	free(bundle);
}

/* The VM stops: the session ends without an exit line, and the host
 * process ends as its container did, killed (137). */
static void test_vm_gone(void)
{
	char *bundle = make_bundle("b6", "sb"), pid_file[512], *text = NULL;
	int status = -1;

	snprintf(pid_file, sizeof(pid_file), "%s/c6.pid", root);
	ok(RUN(cmd_create, "create", "--bundle", bundle, "--pid-file", pid_file, "c6") == 0 &&
		   RUN(cmd_start, "start", "c6") == 0,
	   "a pod container runs");
	pid_t host = read_file(pid_file, &text, NULL, NULL) == 0 ? atoi(text) : 0;
	free(text);
	if (fake.container_conn >= 0)
		shutdown(fake.container_conn, SHUT_RDWR);
	if (host > 0)
		waitpid(host, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "the VM gone, its host process is killed, as the container (status %d)", status);
	ok(RUN(cmd_delete, "delete", "c6") == 0 && !strcmp(status_of("c6"), "gone"), "and deleted");
	free(bundle);
}

static void test_bad_sandbox(void)
{
	char path[512];
	char *nope = make_bundle("b4", "nope"), *plain = make_bundle("b5", "plain");

	int before = fake.n_requests;
	ok(RUN(cmd_create, "create", "--bundle", nope, "c4") == 1 && !strcmp(status_of("c4"), "gone"),
	   "a sandbox that does not exist: error, nothing left");
	ok(RUN(cmd_create, "create", "--bundle", plain, "c5") == 1 && !strcmp(status_of("c5"), "gone"),
	   "a container that is no sandbox: error, nothing left");
	snprintf(path, sizeof(path), "%s/c4", root);
	ok(access(path, F_OK) < 0 && fake.n_requests == before, "no directory, no request to the sandbox");
	free(nope);
	free(plain);
}

int main(void)
{
	sigset_t forwarded;

	if (!mkdtemp(root))
		return 99;
	g.root = root;
	exec_session_signals(&forwarded);
	sigprocmask(SIG_BLOCK, &forwarded, NULL);

	test_classify();
	test_graft_names();
	test_record();

	pid_t sb_vmm = sleeper(), plain_vmm = sleeper();
	char *sb = make_container("sb", sb_vmm), *plain = make_container("plain", plain_vmm);
	const struct pod_record sandbox = { .role = POD_ROLE_SANDBOX };
	if (state_write_pod(sb, &sandbox, NULL) < 0 || fake_vmm_start(&fake, sb, pod_replies) < 0)
		return 99;
	/* open_tree needs CAP_SYS_ADMIN and a kernel of 5.2 or later. */
	int probe = open_tree(AT_FDCWD, root, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (probe < 0) {
		printf("# skipping create: open_tree: %s\n", strerror(errno));
	} else {
		close(probe);
		test_create_and_route();
		test_force_delete();
		test_vm_gone();
	}
	test_bad_sandbox();
	fake_vmm_stop(&fake);
	kill(sb_vmm, SIGKILL);
	kill(plain_vmm, SIGKILL);
	waitpid(sb_vmm, NULL, 0);
	waitpid(plain_vmm, NULL, 0);
	free(sb);
	free(plain);
	remove_tree(root, NULL);
	return tap_done();
}
