/* novm-runc's commands against a fake VMM (test-runtime-fake-vmm.h): a
 * state directory as create leaves it, a sleeping child as the VMM, and a
 * control socket that answers as the VMM would.  Checks what each command
 * asks the VMM, what it prints and how the state changes, without KVM. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "runtime/console-socket.h"
#include "runtime/control-client.h"
#include "runtime/exec-session.h"
#include "runtime/proc.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "tap.h"
#include "test-runtime-cmd.h"
#include "test-runtime-fake-vmm.h"
#include "util.h"

static const char *replies(const char *request)
{
	static char big[20000];

	if (!strcmp(request, "start"))
		return "ok 42";
	if (!strcmp(request, "boom"))
		return "error it broke";
	if (!strcmp(request, "hang"))
		return NULL;
	if (!strcmp(request, "big")) {
		/* Longer than a request line may be. */
		strcpy(big, "ok [");
		for (int i = 0; i < 2000; i++)
			strcat(big, i ? ",12345678" : "12345678");
		strcat(big, "]");
		return big;
	}
	if (!strcmp(request, "ps"))
		return "ok [{\"pid\":56,\"ppid\":1,\"uid\":0,\"cmd\":\"[sh]\"},"
		       "{\"pid\":57,\"ppid\":56,\"uid\":1000,\"cmd\":\"sleep 1000\"}]";
	if (!strcmp(request, "stats"))
		return "ok {\"memory\":{\"total\":1000,\"available\":500,\"usage\":500},\"cpu\":{\"usage\":123}}";
	return "ok";
}

static void test_client(const char *dir)
{
	novm_error_t err = NULL;
	char *data = NULL, *path = NULL;

	ok(ctl_call(dir, "start", &data, &err) == 0 && !strcmp(data, "42"), "ok <data>");
	free(data);
	ok(ctl_call(dir, "boom", NULL, &err) < 0 && !strcmp(err->msg, "it broke"), "error <message>");
	novm_error_release(&err);
	ok(ctl_call(dir, "hang", NULL, &err) < 0 && strstr(err->msg, "without answering"),
	   "a hang-up without an answer");
	novm_error_release(&err);
	ok(ctl_call(dir, "big", &data, &err) == 0 && strlen(data) > 16000, "a long answer (%zu bytes)",
	   data ? strlen(data) : 0);
	free(data);
	ok(ctl_call("/nonexistent", "start", NULL, &err) < 0 && !strcmp(err->msg, "container does not exist"),
	   "no state directory");
	novm_error_release(&err);

	char longdir[300];
	memset(longdir, 'x', sizeof(longdir));
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	ok(ctl_socket_path(longdir, 7, &path, &err) == 0 && !strcmp(path, "/proc/self/fd/7/control.sock"),
	   "a long state path goes through /proc/self/fd");
	free(path);
	ok(ctl_socket_path(longdir, -1, &path, &err) < 0, "... and fails without a descriptor");
	novm_error_release(&err);
}

static void test_lifecycle(struct fake_vmm *f, pid_t vmm)
{
	char *out;
	int status;

	OUTPUT(out, status, cmd_state, "state", "c1");
	ok(status == 0 && strstr(out, "\"status\": \"created\"") && strstr(out, "\"id\": \"c1\""),
	   "state: created");
	free(out);
	ok(RUN(cmd_start, "start", "c1") == 0 && !strcmp(fake_last(f), "start") &&
		   !strcmp(status_of("c1"), "running"),
	   "start asks the VMM and records running");
	ok(RUN(cmd_start, "start", "c1") == 1, "start twice fails");

	ok(RUN(cmd_kill, "kill", "c1") == 0 && !strcmp(fake_last(f), "kill 15"), "kill: SIGTERM by default");
	ok(RUN(cmd_kill, "kill", "-a", "c1", "HUP") == 0 && !strcmp(fake_last(f), "kill 1 all"),
	   "kill --all with a name");
	ok(RUN(cmd_kill, "kill", "c1", "FOO") == 1 && !strcmp(fake_last(f), "kill 1 all"),
	   "a bad signal is refused before the VMM is asked");
	ok(RUN(cmd_kill, "kill", "c1", "0") == 0 && RUN(cmd_kill, "kill", "--all", "c1", "0") == 0 &&
		   !strcmp(fake_last(f), "kill 1 all"),
	   "signal 0: the container is alive, and its VMM is not asked");

	ok(RUN(cmd_pause, "pause", "c1") == 0 && !strcmp(fake_last(f), "pause") &&
		   !strcmp(status_of("c1"), "paused"),
	   "pause");
	ok(RUN(cmd_pause, "pause", "c1") == 1, "pause when paused fails");
	OUTPUT(out, status, cmd_ps, "ps", "c1");
	ok(status == 1, "ps of a paused container fails (its guest cannot answer)");
	free(out);
	ok(RUN(cmd_resume, "resume", "c1") == 0 && !strcmp(fake_last(f), "resume") &&
		   !strcmp(status_of("c1"), "running"),
	   "resume");
	ok(RUN(cmd_resume, "resume", "c1") == 1, "resume when running fails");

	OUTPUT(out, status, cmd_ps, "ps", "--format", "json", "c1");
	char want[64];
	snprintf(want, sizeof(want), "[%d]\n", vmm);
	ok(status == 0 && !strcmp(out, want), "ps --format json: the VMM's host pid");
	free(out);
	OUTPUT(out, status, cmd_ps, "ps", "c1");
	ok(status == 0 && strstr(out, "sleep 1000") && strstr(out, "[sh]"),
	   "ps: every process the agent lists (its container's cgroup), \"[comm]\" ones too");
	free(out);

	OUTPUT(out, status, cmd_events, "events", "--stats", "c1");
	ok(status == 0 &&
		   !strcmp(out, "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"cpu\":{\"usage\":{\"total\":123}},"
				"\"memory\":{\"usage\":{\"limit\":1000,\"usage\":500}}}}\n"),
	   "events --stats: one runc-style stats line");
	free(out);

	ok(RUN(cmd_update, "update", "--memory", "10M", "c1") == 1, "update: a new memory limit is refused");
	ok(RUN(cmd_update, "update", "--cpu-quota", "50000", "--cpu-share", "512", "c1") == 0,
	   "update: CPU settings are accepted");
	static const char below[] = "{\"memory\":{\"limit\":-2}}", unlimited[] = "{\"memory\":{\"limit\":-1}}";
	char resources[512];
	snprintf(resources, sizeof(resources), "%s/resources.json", root);
	write_file_atomic(resources, below, strlen(below), 0600, NULL);
	ok(RUN(cmd_update, "update", "-r", resources, "c1") == 1,
	   "update: a memory limit below -1 is refused, not read as unlimited");
	write_file_atomic(resources, unlimited, strlen(unlimited), 0600, NULL);
	ok(RUN(cmd_update, "update", "-r", resources, "c1") == 0, "update: -1 is unlimited, as created");

	OUTPUT(out, status, cmd_list, "list", "-f", "json");
	ok(status == 0 && out[0] == '[' && strstr(out, "\"id\":\"c1\"") && strstr(out, "\"status\":\"running\"") &&
		   strstr(out, "\"owner\":\"root\""),
	   "list --format json");
	free(out);
	OUTPUT(out, status, cmd_list, "list");
	ok(status == 0 && !strncmp(out, "ID          PID         STATUS      ", 36) && strstr(out, "\nc1 "),
	   "list: runc's table");
	free(out);
}

static void test_exec(struct fake_vmm *f, const char *dir)
{
	char process[512];
	int pipefd[2];

	snprintf(process, sizeof(process), "%s/../process.json", dir);
	write_file_atomic(process, "{\"args\":[\"echo\",\"hi\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}",
			  strlen("{\"args\":[\"echo\",\"hi\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}"),
			  0600, NULL);
	if (pipe(pipefd) < 0)
		return;
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		char *argv[] = { "exec", "-p", process, "c1", NULL };
		_exit(cmd_exec(&g, 4, argv));
	}
	close(pipefd[1]);
	usleep(300 * 1000);
	kill(child, SIGTERM);
	int status = -1;
	waitpid(child, &status, 0);
	char buf[64] = "";
	ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "exec: the proxy exits with the process's status (%d)",
	   status);
	ok(!strcmp(buf, "hello\n") && f->exec_nfds == 3, "exec: our stdio went to the VMM (%d fds)", f->exec_nfds);
	ok(strstr(f->exec_json, "\"args\":[\"echo\",\"hi\"]") != NULL, "exec: the process JSON (%s)", f->exec_json);
	ok(f->n_session_lines >= 1 && !strcmp(f->session_lines[f->n_session_lines - 1], "signal 15"),
	   "exec: our SIGTERM forwarded as `signal 15`");

	/* --detach: the proxy stays behind, its pid in the pid file. */
	char pid_file[512], *text = NULL;
	snprintf(pid_file, sizeof(pid_file), "%s/../exec.pid", dir);
	int r = RUN(cmd_exec, "exec", "--detach", "--pid-file", pid_file, "-p", process, "c1");
	ok(r == 0 && read_file(pid_file, &text, NULL, NULL) == 0, "exec --detach writes the pid file");
	pid_t proxy = text ? atoi(text) : 0;
	free(text);
	ok(proxy > 0 && proc_alive(proxy, 0), "the detached proxy runs");
	usleep(100 * 1000);
	char *out;
	OUTPUT(out, status, cmd_ps, "ps", "-f", "json", "c1");
	char want[32];
	snprintf(want, sizeof(want), ",%d]", proxy);
	ok(strstr(out, want) != NULL, "ps --format json lists the exec proxy");
	free(out);
	kill(proxy, SIGTERM);
	waitpid(proxy, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "the detached proxy ends with the process's status");
}

/* exec -p with consoleSize and a console socket: the size forwarded is
 * the process's, not the new pty's 0x0 (which undid it in the guest). */
static void test_exec_console_size(struct fake_vmm *f, const char *dir)
{
	const char *json = "{\"terminal\":true,\"consoleSize\":{\"height\":41,\"width\":123},"
			   "\"args\":[\"stty\",\"size\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}";
	char process[512], sock[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(process, sizeof(process), "%s/../tty-process.json", dir);
	snprintf(sock, sizeof(sock), "%s/../tty.sock", dir);
	write_file_atomic(process, json, strlen(json), 0600, NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", sock);
	int listener = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(listener, (struct sockaddr *)&sa, sizeof(sa));
	listen(listener, 1);
	f->n_session_lines = 0;
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		char *argv[] = { "exec", "--console-socket", sock, "-p", process, "c1", NULL };
		_exit(cmd_exec(&g, 6, argv));
	}
	int conn = accept(listener, NULL, NULL), fds[3], nfds = 0;
	char name[64] = "";
	fake_read_line(conn, name, sizeof(name), fds, &nfds);
	usleep(300 * 1000);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	bool sized = false, zero = false;
	for (int i = 0; i < f->n_session_lines; i++) {
		sized |= !strcmp(f->session_lines[i], "resize 41 123");
		zero |= !strcmp(f->session_lines[i], "resize 0 0");
	}
	ok(nfds == 1 && sized && !zero, "exec -p consoleSize: `resize 41 123` forwarded, no `resize 0 0`");
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	close(conn);
	close(listener);
}

static void test_delete(pid_t vmm, pid_t vmm2, const char *dir2)
{
	ok(RUN(cmd_delete, "delete", "c1") == 1 && !strcmp(status_of("c1"), "running"),
	   "delete of a running container without --force fails");
	ok(RUN(cmd_delete, "delete", "--force", "c1") == 0 && !strcmp(status_of("c1"), "gone") &&
		   !proc_alive(vmm, 0),
	   "delete --force kills the VMM and removes the state");
	ok(RUN(cmd_delete, "delete", "-f", "c1") == 0, "delete --force of nothing succeeds");
	ok(RUN(cmd_delete, "delete", "c1") == 1, "delete of nothing fails");

	/* runc execs in a created container: so do we. */
	char process[512], pid_file[512], *text = NULL;
	snprintf(process, sizeof(process), "%s/../process.json", dir2);
	snprintf(pid_file, sizeof(pid_file), "%s/../exec2.pid", dir2);
	ok(!strcmp(status_of("c2"), "created") &&
		   RUN(cmd_exec, "exec", "--detach", "--pid-file", pid_file, "-p", process, "c2") == 0 &&
		   read_file(pid_file, &text, NULL, NULL) == 0,
	   "exec in a created container");
	pid_t proxy = text ? atoi(text) : 0;
	free(text);
	if (proxy > 0) {
		kill(proxy, SIGTERM);
		waitpid(proxy, NULL, 0);
	}
	ok(!strcmp(status_of("c2"), "created"), "... which stays created");

	/* A paused container's guest cannot take a signal: KILL ends its VM. */
	ok(RUN(cmd_start, "start", "c2") == 0 && RUN(cmd_pause, "pause", "c2") == 0 &&
		   RUN(cmd_kill, "kill", "c2", "KILL") == 0,
	   "kill KILL of a paused container");
	proc_wait_gone(vmm2, 0, 2000);
	ok(!proc_alive(vmm2, 0) && !strcmp(status_of("c2"), "stopped"), "... killed its VMM: stopped");
	ok(RUN(cmd_kill, "kill", "c2") == 1 && RUN(cmd_kill, "kill", "c2", "0") == 1,
	   "kill of a stopped container fails, signal 0 too (runc: container not running)");
	ok(RUN(cmd_kill, "kill", "--all", "c2", "0") == 0 && RUN(cmd_kill, "kill", "-a", "c2", "KILL") == 0,
	   "kill --all of a stopped container succeeds: nothing is left to signal");
	ok(RUN(cmd_delete, "delete", "c2") == 0 && access(dir2, F_OK) < 0, "delete of a stopped container");
}

static void test_console_socket(void)
{
	char path[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int master = -1, slave = -1;
	char *name = NULL;
	novm_error_t err = NULL;

	snprintf(path, sizeof(path), "%s/console.sock", root);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	int listener = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(listener, (struct sockaddr *)&sa, sizeof(sa));
	listen(listener, 1);
	ok(pty_open(&master, &slave, &name, &err) == 0 && !strncmp(name, "/dev/pts/", 9), "a pty pair (%s)",
	   name ? name : "");
	ok(console_socket_send(path, master, name, &err) == 0, "the master sent to the console socket");
	int conn = accept(listener, NULL, NULL);
	char payload[64] = "";
	int fds[3], nfds = 0;
	fake_read_line(conn, payload, sizeof(payload), fds, &nfds);
	ok(nfds == 1 && !strcmp(payload, name), "one fd, the pty name as payload (%s)", payload);
	if (nfds == 1) {
		char buf[8] = "";
		ok(write(fds[0], "x\n", 2) == 2 && read(slave, buf, sizeof(buf)) > 0 && buf[0] == 'x',
		   "the received fd is the master of our slave");
		close(fds[0]);
	}
	close(conn);
	close(listener);
	close(master);
	close(slave);
	free(name);
}

int main(void)
{
	struct fake_vmm f;
	sigset_t forwarded;

	if (!mkdtemp(root))
		return 99;
	g.root = root;
	/* Before any thread: exec forwards these through a signalfd. */
	exec_session_signals(&forwarded);
	sigprocmask(SIG_BLOCK, &forwarded, NULL);

	pid_t vmm = sleeper(), vmm2 = sleeper();
	char *dir = make_container("c1", vmm), *dir2 = make_container("c2", vmm2);
	struct fake_vmm f2;
	if (fake_vmm_start(&f, dir, replies) < 0 || fake_vmm_start(&f2, dir2, replies) < 0)
		return 99;
	test_client(dir);
	test_lifecycle(&f, vmm);
	test_exec(&f, dir);
	test_exec_console_size(&f, dir);
	test_delete(vmm, vmm2, dir2);
	test_console_socket();
	fake_vmm_stop(&f);
	fake_vmm_stop(&f2);
	free(dir);
	free(dir2);
	remove_tree(root, NULL);
	return tap_done();
}
