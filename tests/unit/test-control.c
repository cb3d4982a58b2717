/* The control socket without KVM: the protocol's pure parts, fd passing, and
 * the server driven end to end over a real unix socket against a fake
 * backend.  The stdio relays of its exec sessions are in test-relay.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "control-client.h"
#include "tap.h"

/* control.c's ACCEPT_BACKOFF_MS */
#define ACCEPT_BACKOFF_TEST_MS 100

/* ---- the pure parts ---- */

static bool parses(const char *line, struct control_request *req)
{
	novm_error_t err = NULL;
	int r = control_parse_request(line, req, &err);

	novm_error_release(&err);
	return r == 0;
}

static void test_parse_request(void)
{
	struct control_request r;

	ok(parses("start", &r) && r.verb == CONTROL_START, "start");
	ok(parses("ps", &r) && r.verb == CONTROL_PS, "ps");
	ok(parses("stats", &r) && r.verb == CONTROL_STATS, "stats");
	ok(parses("pause", &r) && r.verb == CONTROL_PAUSE, "pause");
	ok(parses("resume", &r) && r.verb == CONTROL_RESUME, "resume");
	ok(parses("diag", &r) && r.verb == CONTROL_DIAG, "diag");
	ok(parses("kill 9", &r) && r.verb == CONTROL_KILL && r.signo == 9 && !r.all, "kill 9");
	ok(parses("kill 15 all", &r) && r.signo == 15 && r.all, "kill 15 all");
	ok(parses("exec 120", &r) && r.verb == CONTROL_EXEC && r.body_len == 120 && !r.tty,
	   "exec 120");
	ok(parses("exec 65536 tty", &r) && r.body_len == 65536 && r.tty, "exec at the limit, tty");
	ok(parses("resize 24 80", &r) && r.verb == CONTROL_RESIZE && r.rows == 24 && r.cols == 80,
	   "resize 24 80");
	ok(parses("nics 300", &r) && r.verb == CONTROL_NICS && r.body_len == 300, "nics 300");
	ok(parses("nics 65536", &r) && r.body_len == CONTROL_MAX_NETWORK_JSON, "nics at the limit");

	static const char *const bad[] = {
		"", "start now", "ps ", " ps", "kill", "kill 0", "kill 65", "kill -9", "kill +9",
		"kill 9x", "kill  9", "kill 9 some", "kill 99999999999999999999999", "exec",
		"exec 0", "exec 65537", "exec 10 pty", "exec 10 tty x", "resize 24", "resize 70000 1",
		"START", "stop", "kill\t9", "nics", "nics 0", "nics 65537", "nics 10 tty", "nics -1",
	};
	int refused = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!parses(bad[i], &r))
			refused++;
		else
			printf("# accepted `%s`\n", bad[i]);
	}
	ok(refused == (int)ARRAY_SIZE(bad), "%d malformed requests refused", refused);

	struct control_session_request s;
	novm_error_t err = NULL;
	ok(control_parse_session_request("signal 2", &s, &err) == 0 &&
		   s.verb == CONTROL_SESSION_SIGNAL && s.signo == 2,
	   "session: signal 2");
	ok(control_parse_session_request("resize 50 132", &s, &err) == 0 &&
		   s.verb == CONTROL_SESSION_RESIZE && s.rows == 50 && s.cols == 132,
	   "session: resize");
	ok(control_parse_session_request("signal", &s, &err) < 0, "session: signal without number");
	novm_error_release(&err);
	ok(control_parse_session_request("kill 9", &s, &err) < 0, "session: other commands refused");
	novm_error_release(&err);
}

static void test_take_line(void)
{
	char buf[CONTROL_MAX_LINE + 16], line[CONTROL_MAX_LINE];
	size_t len;

	memcpy(buf, "ps\nsta", 6);
	len = 6;
	ok(control_take_line(buf, &len, line) == 1 && strcmp(line, "ps") == 0 && len == 3 &&
		   memcmp(buf, "sta", 3) == 0,
	   "a line is cut out, the rest kept");
	ok(control_take_line(buf, &len, line) == 0 && len == 3, "a partial line waits");
	memcpy(buf + len, "ts\n", 3);
	len += 3;
	ok(control_take_line(buf, &len, line) == 1 && strcmp(line, "stats") == 0 && len == 0,
	   "completed by the next piece");
	memset(buf, 'a', CONTROL_MAX_LINE);
	len = CONTROL_MAX_LINE;
	ok(control_take_line(buf, &len, line) == -1, "too long without a newline");
	memcpy(buf, "p\0s\n", 4);
	len = 4;
	ok(control_take_line(buf, &len, line) == -1, "NUL inside a line refused");
	memset(buf, 'b', CONTROL_MAX_LINE - 1);
	buf[CONTROL_MAX_LINE - 1] = '\n';
	len = CONTROL_MAX_LINE;
	ok(control_take_line(buf, &len, line) == 1 && strlen(line) == CONTROL_MAX_LINE - 1,
	   "the longest line fits");
}

static void test_format_reply(void)
{
	char out[256];
	size_t n;

	n = control_format_reply("[1,\n2]", 6, out, sizeof(out));
	ok(n == 10 && strcmp(out, "ok [1, 2]\n") == 0, "ok with line breaks flattened");
	const char *agent_err = "{\"error\":\"no \\\"such\\\" query\\nat all\"}";
	n = control_format_reply(agent_err, strlen(agent_err), out, sizeof(out));
	ok(strcmp(out, "error no \"such\" query at all\n") == 0, "agent {\"error\"} -> error line");
	n = control_format_reply("{\"error\":\"a\nb\"}", 15, out, sizeof(out));
	ok(strcmp(out, "error a b\n") == 0, "raw newline in a hostile error message flattened");
	char big[1000];
	memset(big, 'x', sizeof(big));
	n = control_format_reply(big, sizeof(big), out, sizeof(out));
	ok(n < sizeof(out) && out[n - 1] == '\n' && out[n] == '\0', "bounded by the buffer");
}

static void test_recv_fds(void)
{
	int sp[2], p[2], fds[3], nr = 0, five[5];
	char buf[64];
	ssize_t n;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	pipe(p);
	int three[3] = { p[0], p[1], p[0] };
	send_with_fds(sp[0], "exec 5\n", three, 3);
	n = control_recv(sp[1], buf, sizeof(buf), fds, 3, &nr);
	ok(n == 7 && nr == 3 && fd_open(fds[0]) && fds[0] != p[0] &&
		   (fcntl(fds[1], F_GETFD) & FD_CLOEXEC),
	   "three fds arrive with the line, close-on-exec");
	for (int i = 0; i < nr; i++)
		close(fds[i]);
	ok(control_recv(sp[1], buf, sizeof(buf), fds, 3, &nr) == -EAGAIN, "nothing more: EAGAIN");

	/* One more than allowed: every fd of that message is closed. */
	nr = 0;
	int before = fcntl(0, F_DUPFD, 0);
	close(before);
	for (int i = 0; i < 5; i++)
		five[i] = p[1];
	send_with_fds(sp[0], "x", five, 5);
	n = control_recv(sp[1], buf, sizeof(buf), fds, 3, &nr);
	int after = fcntl(0, F_DUPFD, 0);
	close(after);
	ok(n == -EPROTO && nr == 0 && after == before, "too many fds: -EPROTO, none leaked");
	close(sp[0]);
	ok(control_recv(sp[1], buf, sizeof(buf), fds, 3, &nr) == 0, "EOF");
	close(sp[1]);
	close(p[0]);
	close(p[1]);
}

/* ---- the server, with a fake backend ---- */

struct fake {
	int calls_start, calls_signal, calls_query, calls_exec, calls_ssignal, calls_resize;
	int calls_start_forget, calls_query_forget, calls_session_forget;
	int signo;
	bool all, paused;
	char query_name[16];
	uint32_t next_id;
	agent_reply_fn reply;
	void *reply_opaque;
	const struct agent_session_ops *ops;
	void *opaque;
	const struct agent_session_ops *exec_ops;
	void *exec_opaque;
	uint32_t forgotten_id;
	char exec_json[256];
	size_t exec_len;
	int exec_fds[3];
	int calls_nics;
	char nics_json[256];
	size_t nics_len;
	int nics_fds[CONTROL_MAX_NIC_FDS];
	int nr_nics_fds;
	unsigned rows, cols;
	uint32_t resize_id;
};

static int fake_start(void *be, const struct agent_session_ops *ops, void *opaque, novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->calls_start++;
	f->ops = ops;
	f->opaque = opaque;
	return 0;
}

static void fake_start_forget(void *be)
{
	((struct fake *)be)->calls_start_forget++;
}

static int fake_signal(void *be, int signo, bool all, novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->calls_signal++;
	f->signo = signo;
	f->all = all;
	return 0;
}

static int fake_query(void *be, const char *name, agent_reply_fn fn, void *opaque, uint32_t *id,
		      novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->calls_query++;
	snprintf(f->query_name, sizeof(f->query_name), "%s", name);
	f->reply = fn;
	f->reply_opaque = opaque;
	*id = ++f->next_id;
	return 0;
}

static void fake_query_forget(void *be, uint32_t id)
{
	struct fake *f = be;

	f->calls_query_forget++;
	f->forgotten_id = id;
}

static int fake_exec(void *be, const char *json, size_t len, const int stdio[3],
		     const struct agent_session_ops *ops, void *opaque, uint32_t *id, novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->calls_exec++;
	f->exec_len = len < sizeof(f->exec_json) ? len : sizeof(f->exec_json);
	memcpy(f->exec_json, json, f->exec_len);
	memcpy(f->exec_fds, stdio, sizeof(f->exec_fds));
	f->exec_ops = ops;
	f->exec_opaque = opaque;
	*id = ++f->next_id;
	return 0;
}

static int fake_session_signal(void *be, uint32_t id, int signo, novm_error_t *err)
{
	struct fake *f = be;

	(void)id;
	(void)err;
	f->calls_ssignal++;
	f->signo = signo;
	return 0;
}

static int fake_session_resize(void *be, uint32_t id, unsigned rows, unsigned cols,
			       novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->calls_resize++;
	f->resize_id = id;
	f->rows = rows;
	f->cols = cols;
	return 0;
}

static void fake_session_forget(void *be, uint32_t id)
{
	struct fake *f = be;

	f->calls_session_forget++;
	f->forgotten_id = id;
}

static int fake_pause(void *be, novm_error_t *err)
{
	(void)err;
	((struct fake *)be)->paused = true;
	return 0;
}

static int fake_resume(void *be, novm_error_t *err)
{
	(void)err;
	((struct fake *)be)->paused = false;
	return 0;
}

static bool fake_paused(void *be)
{
	return ((struct fake *)be)->paused;
}

/* Longer than a plain answer line may be, as a VM's many queues are. */
static void fake_describe(void *be, FILE *out)
{
	fprintf(out, "{\"paused\":%s,\"queues\":[", ((struct fake *)be)->paused ? "true" : "false");
	for (int i = 0; i < 200; i++)
		fprintf(out, "%s{\"index\":%d,\"last_avail\":%d}", i ? "," : "", i, i * 7);
	fputs("]}", out);
}

static int fake_nics(void *be, const char *json, size_t len, const int *fds, int nr_fds,
		     agent_reply_fn fn, void *opaque, uint32_t *id, novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->calls_nics++;
	f->nics_len = len < sizeof(f->nics_json) ? len : sizeof(f->nics_json);
	memcpy(f->nics_json, json, f->nics_len);
	f->nr_nics_fds = nr_fds;
	memcpy(f->nics_fds, fds, (size_t)nr_fds * sizeof(*fds));
	f->reply = fn;
	f->reply_opaque = opaque;
	*id = ++f->next_id;
	return 0;
}

static const struct control_backend_ops fake_ops = {
	.start = fake_start,
	.start_forget = fake_start_forget,
	.signal = fake_signal,
	.query = fake_query,
	.query_forget = fake_query_forget,
	.exec = fake_exec,
	.session_signal = fake_session_signal,
	.session_resize = fake_session_resize,
	.session_forget = fake_session_forget,
	.pause = fake_pause,
	.resume = fake_resume,
	.paused = fake_paused,
	.describe = fake_describe,
	.nics = fake_nics,
};

static void test_server(void)
{
	struct fake f = { 0 };
	novm_error_t err = NULL;
	static char dir[] = "/tmp/novm-test-control-XXXXXX";
	const char *a;
	int fd;

	mkdtemp(dir);
	memcpy(sock_path, dir, sizeof(dir) - 1);
	strcpy(sock_path + sizeof(dir) - 1, "/" CONTROL_SOCKET_NAME);
	/* A stale socket from a dead VMM is replaced. */
	int stale = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	bind(stale, (struct sockaddr *)&sa, sizeof(sa));
	close(stale);
	ok(control_new(NULL, sock_path, &fake_ops, &f, &ctl, &err) == 0, "server up over a stale socket");
	struct stat st;
	ok(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0600, "socket mode 0600");

	/* simple requests */
	a = call("kill 15 all\n");
	ok(strcmp(a, "ok") == 0 && f.calls_signal == 1 && f.signo == 15 && f.all, "kill 15 all -> %s", a);
	a = call("hello\n");
	ok(strncmp(a, "error unknown command", 21) == 0, "garbage -> %s, closed", a);
	a = call("pause\n");
	ok(strcmp(a, "ok") == 0 && f.paused, "pause -> ok");
	a = call("pause\n");
	ok(strncmp(a, "error", 5) == 0, "pause twice -> %s", a);
	a = call("ps\n");
	ok(strncmp(a, "error", 5) == 0 && f.calls_query == 0, "ps while paused -> %s", a);
	a = call("diag\n");
	ok(strncmp(a, "ok {\"paused\":true,", 18) == 0 && strlen(a) > CONTROL_MAX_LINE &&
		   strstr(a, "{\"index\":199,\"last_avail\":1393}]}"),
	   "diag while paused -> the whole state, longer than a line (%zu bytes)", strlen(a));
	a = call("resume\n");
	ok(strcmp(a, "ok") == 0 && !f.paused, "resume -> ok");
	a = call("resize 30 100\n");
	ok(strcmp(a, "ok") == 0 && f.resize_id == 0 && f.rows == 30 && f.cols == 100,
	   "resize of session 0");

	/* a line in pieces, and a line that never ends */
	fd = client();
	send(fd, "ki", 2, 0);
	serve_a_little();
	send(fd, "ll 9\n", 5, 0);
	a = read_answer(fd);
	ok(strcmp(a, "ok") == 0 && f.signo == 9, "request in two pieces");
	close(fd);
	fd = client();
	static char junk[CONTROL_MAX_LINE + 10];
	memset(junk, 'z', sizeof(junk));
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	a = read_answer(fd);
	ok(strncmp(a, "error", 5) == 0 && at_eof(fd), "endless line -> error, closed");
	close(fd);

	/* queries: answer routed to the asking connection */
	fd = client();
	send(fd, "ps\n", 3, 0);
	serve_a_little();
	ok(f.calls_query == 1 && strcmp(f.query_name, "ps") == 0, "ps -> a query");
	f.reply(f.reply_opaque, "[{\"pid\":1}]", 11);
	a = read_answer(fd);
	ok(strcmp(a, "ok [{\"pid\":1}]") == 0 && at_eof(fd), "ps answer: %s", a);
	close(fd);
	fd = client();
	send(fd, "stats\n", 6, 0);
	serve_a_little();
	f.reply(f.reply_opaque, "{\"error\":\"no cgroup\"}", 21);
	a = read_answer(fd);
	ok(strcmp(a, "error no cgroup") == 0, "query failure -> %s", a);
	close(fd);
	fd = client();
	send(fd, "ps\n", 3, 0);
	serve_a_little();
	uint32_t qid = f.next_id;
	close(fd);
	serve_a_little();
	ok(f.calls_query_forget == 1 && f.forgotten_id == qid, "a client gone: its query forgotten");

	/* start */
	fd = client();
	send(fd, "start\n", 6, 0);
	serve_a_little();
	ok(f.calls_start == 1, "start reaches the backend");
	f.ops->started(f.opaque, 42);
	a = read_answer(fd);
	ok(strcmp(a, "ok 42") == 0 && at_eof(fd), "start -> %s", a);
	close(fd);
	fd = client();
	send(fd, "start\n", 6, 0);
	serve_a_little();
	f.ops->ended(f.opaque, 1, 0, "exec: \"nope\": not found");
	a = read_answer(fd);
	ok(strcmp(a, "error exec: \"nope\": not found") == 0, "start failure -> %s", a);
	close(fd);

	/* fds are for exec only, and closed when refused */
	int p[2];
	pipe(p);
	fd = client();
	send_with_fds(fd, "ps\n", &p[1], 1);
	a = read_answer(fd);
	close(fd);
	close(p[1]);
	char c;
	ok(strncmp(a, "error", 5) == 0 && read(p[0], &c, 1) == 0, "fds with ps: error, fds closed");
	close(p[0]);
	fd = client();
	send(fd, "exec 5\n", 7, 0);
	a = read_answer(fd);
	ok(strncmp(a, "error exec needs 3 fds", 22) == 0, "exec without fds -> %s", a);
	close(fd);

	/* exec: line + fds, body in another piece, session lines, exit */
	const char *json = "{\"args\":[\"sh\"],\"cwd\":\"/\"}";
	char line[64];
	int io[2];
	pipe(io);
	int three[3] = { io[0], io[1], io[1] };
	snprintf(line, sizeof(line), "exec %zu tty\n", strlen(json));
	fd = client();
	send_with_fds(fd, line, three, 3);
	serve_a_little();
	send(fd, json, 10, 0);
	serve_a_little();
	ok(f.calls_exec == 0, "exec waits for the whole body");
	send(fd, json + 10, strlen(json) - 10, 0);
	send(fd, "signal 2\nresize 24 80\n", 22, 0);
	serve_a_little();
	ok(f.calls_exec == 1 && f.exec_len == strlen(json) && memcmp(f.exec_json, json, f.exec_len) == 0,
	   "exec: the process JSON");
	ok(fd_open(f.exec_fds[0]) && fd_open(f.exec_fds[2]) && f.exec_fds[0] != io[0],
	   "exec: the three fds handed over");
	f.exec_ops->started(f.exec_opaque, 7);
	a = read_answer(fd);
	ok(strcmp(a, "ok 7") == 0, "exec started -> %s", a);
	ok(f.calls_ssignal == 1 && f.signo == 2 && f.calls_resize == 2 && f.rows == 24 &&
		   f.resize_id == f.next_id,
	   "signal and resize lines reach the session");
	f.exec_ops->ended(f.exec_opaque, 130, 2, NULL);
	a = read_answer(fd);
	ok(strcmp(a, "exit 130 2") == 0 && at_eof(fd), "exec ended -> %s", a);
	close(fd);
	for (int i = 0; i < 3; i++)
		close(f.exec_fds[i]);

	/* an exec client that leaves early: the session is forgotten, not
	 * broken; garbage on a session connection closes it */
	fd = client();
	send_with_fds(fd, line, three, 3);
	send(fd, json, strlen(json), 0);
	serve_a_little();
	uint32_t sid = f.next_id;
	close(fd);
	serve_a_little();
	ok(f.calls_session_forget == 1 && f.forgotten_id == sid, "exec client gone: session forgotten");
	for (int i = 0; i < 3; i++)
		close(f.exec_fds[i]);
	fd = client();
	send_with_fds(fd, line, three, 3);
	send(fd, json, strlen(json), 0);
	send(fd, "rm -rf /\n", 9, 0);
	a = read_answer(fd);
	ok(strncmp(a, "error", 5) == 0 && at_eof(fd) && f.calls_session_forget == 2,
	   "garbage in a session -> %s, closed", a);
	close(fd);
	for (int i = 0; i < 3; i++)
		close(f.exec_fds[i]);

	/* exec that fails to start */
	fd = client();
	send_with_fds(fd, line, three, 3);
	send(fd, json, strlen(json), 0);
	serve_a_little();
	f.exec_ops->ended(f.exec_opaque, 1, 0, "no such file");
	a = read_answer(fd);
	ok(strcmp(a, "error no such file") == 0, "exec failure -> %s", a);
	close(fd);
	for (int i = 0; i < 3; i++)
		close(f.exec_fds[i]);
	close(io[0]);
	close(io[1]);

	/* nics: line + tap fds, the network document after it; answered when
	 * the agent is done; no fds, or four, refused */
	const char *network = "{\"interfaces\":[],\"routes\":[]}";
	int taps[2];
	pipe(taps);
	snprintf(line, sizeof(line), "nics %zu\n", strlen(network));
	fd = client();
	send_with_fds(fd, line, taps, 2);
	serve_a_little();
	send(fd, network, 5, 0);
	serve_a_little();
	ok(f.calls_nics == 0, "nics waits for the whole document");
	send(fd, network + 5, strlen(network) - 5, 0);
	serve_a_little();
	ok(f.calls_nics == 1 && f.nics_len == strlen(network) &&
		   memcmp(f.nics_json, network, f.nics_len) == 0 && f.nr_nics_fds == 2 &&
		   fd_open(f.nics_fds[0]) && fd_open(f.nics_fds[1]),
	   "nics: the document and both tap fds handed over");
	f.reply(f.reply_opaque, "{}", 2);
	a = read_answer(fd);
	ok(strcmp(a, "ok {}") == 0 && at_eof(fd), "nics applied -> %s", a);
	close(fd);
	close(f.nics_fds[0]);
	close(f.nics_fds[1]);
	fd = client();
	send_with_fds(fd, line, taps, 1);
	send(fd, network, strlen(network), 0);
	serve_a_little();
	const char *agent_error = "{\"error\":\"network: no NIC with the MAC of eth0\"}";
	f.reply(f.reply_opaque, agent_error, strlen(agent_error));
	a = read_answer(fd);
	ok(strcmp(a, "error network: no NIC with the MAC of eth0") == 0, "nics: the agent's error -> %s", a);
	close(fd);
	close(f.nics_fds[0]);
	fd = client();
	send(fd, line, strlen(line), 0);
	a = read_answer(fd);
	ok(strncmp(a, "error nics needs 1 to 3 tap fds", 31) == 0 && f.calls_nics == 2,
	   "nics without fds -> %s", a);
	close(fd);
	int four[4] = { taps[0], taps[1], taps[0], taps[1] };
	fd = client();
	send_with_fds(fd, line, four, 4);
	a = read_answer(fd);
	ok(strcmp(a, "error too many fds") == 0 && f.calls_nics == 2, "nics with 4 fds -> %s", a);
	close(fd);
	/* a client gone while the agent works: its answer goes nowhere */
	fd = client();
	send_with_fds(fd, line, taps, 1);
	send(fd, network, strlen(network), 0);
	serve_a_little();
	close(fd);
	serve_a_little();
	ok(f.calls_query_forget >= 1 && f.forgotten_id == f.next_id, "nics client gone: forgotten");
	close(f.nics_fds[0]);
	close(taps[0]);
	close(taps[1]);

	/* too many clients */
	int many[CONTROL_MAX_CONNECTIONS + 1];
	for (int i = 0; i < CONTROL_MAX_CONNECTIONS; i++)
		many[i] = client();
	fd = client();
	a = read_answer(fd);
	ok(strcmp(a, "error too many connections") == 0, "connection %d refused", CONTROL_MAX_CONNECTIONS + 1);
	close(fd);
	for (int i = 0; i < CONTROL_MAX_CONNECTIONS; i++)
		close(many[i]);
	serve_a_little();

	/* the VM stops: waiting clients hear it */
	fd = client();
	send(fd, "start\n", 6, 0);
	serve_a_little();
	control_free(ctl);
	ctl = NULL;
	char buf[128] = "";
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	ok(n > 0 && strcmp(buf, "error the container VM stopped\n") == 0, "VM stopped: the waiting client is told");
	close(fd);
	ok(access(sock_path, F_OK) < 0, "socket removed");
	rmdir(dir);
}

/* A directory path longer than sun_path still gets its socket. */
static void test_long_path(void)
{
	struct fake f = { 0 };
	novm_error_t err = NULL;
	char dir[400];
	int n = snprintf(dir, sizeof(dir), "/tmp/novm-test-control-long-%d-", getpid());

	memset(dir + n, 'd', 150);
	dir[n + 150] = '\0';
	mkdir(dir, 0700);
	char path[460];
	snprintf(path, sizeof(path), "%s/" CONTROL_SOCKET_NAME, dir);
	int r = control_new(NULL, path, &fake_ops, &f, &ctl, &err);
	ok(r == 0 && access(path, F_OK) == 0, "socket at a %zu-byte path", strlen(path));
	if (r < 0)
		printf("# %s\n", err->msg);
	novm_error_release(&err);
	control_free(ctl);
	ctl = NULL;
	rmdir(dir);
}

/* Out of descriptors, accept() fails with EMFILE while the listener stays
 * readable: the loop must rest instead of spinning, say so once, and answer
 * the waiting client once descriptors are free again. */
static void test_out_of_fds(void)
{
	struct fake f = { 0 };
	novm_error_t err = NULL;
	char dir[] = "/tmp/novm-test-control-fds-XXXXXX", logpath[64], buf[512] = "";
	struct rlimit saved, tiny;
	int fillers[64], nfill = 0, c, spins = 0;

	mkdtemp(dir);
	snprintf(sock_path, sizeof(sock_path), "%s/" CONTROL_SOCKET_NAME, dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	if (log_init(logpath, "text", false, &err) < 0 ||
	    control_new(NULL, sock_path, &fake_ops, &f, &ctl, &err) < 0) {
		ok(0, "set-up: %s", err ? err->msg : "?");
		novm_error_release(&err);
		return;
	}
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	getrlimit(RLIMIT_NOFILE, &saved);
	/* The lowest fd still free bounds what we must fill. */
	int probe = dup(0);
	close(probe);
	tiny = (struct rlimit){ .rlim_cur = (rlim_t)probe + 32, .rlim_max = saved.rlim_max };
	setrlimit(RLIMIT_NOFILE, &tiny);
	for (int fd; nfill < (int)ARRAY_SIZE(fillers) && (fd = dup(0)) >= 0;)
		fillers[nfill++] = fd;
	ok(nfill < (int)ARRAY_SIZE(fillers) && errno == EMFILE, "the process is out of descriptors");

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	ok(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0 && send(c, "pause\n", 6, 0) == 6,
	   "a client connects and asks (the backlog holds it)");
	int64_t end = ms_now() + ACCEPT_BACKOFF_TEST_MS / 2;
	control_dispatch(ctl);	/* the failing accept */
	while (ms_now() < end)
		spins += control_dispatch(ctl);
	ok(spins == 0, "while resting, no event wakes the loop (%d)", spins);

	while (nfill)
		close(fillers[--nfill]);
	const char *a = read_answer(c);
	ok(strcmp(a, "ok") == 0 && f.paused, "descriptors free again: the client is answered (%s)", a);
	close(c);
	setrlimit(RLIMIT_NOFILE, &saved);
	a = call("resume\n");
	ok(strcmp(a, "ok") == 0, "and the next one too");

	FILE *lf = fopen(logpath, "r");
	size_t n = lf ? fread(buf, 1, sizeof(buf) - 1, lf) : 0;
	buf[n] = '\0';
	if (lf)
		fclose(lf);
	char *first = strstr(buf, "cannot accept: Too many open files");
	ok(first && !strstr(first + 1, "cannot accept"), "logged once: %.*s", (int)strcspn(buf, "\n"),
	   buf);
	log_init(NULL, "text", false, &err);
	control_free(ctl);
	ctl = NULL;
	unlink(logpath);
	rmdir(dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_parse_request();
	test_take_line();
	test_format_reply();
	test_recv_fds();
	test_server();
	test_long_path();
	test_out_of_fds();
	return tap_done();
}
