/* A pod's control requests without KVM: parsing graft, ungraft, container
 * and `in <session>` lines, and the server routing them to a fake backend
 * over a real unix socket (fds by SCM_RIGHTS). */
#include <errno.h>
#include <stdlib.h>

#include "cleanup.h"
#include "control-client.h"
#include "tap.h"

/* ---- parsing ---- */

static bool parses(const char *line, struct control_request *req)
{
	novm_error_t err = NULL;
	int r = control_parse_request(line, req, &err);

	if (r < 0 && strlen(line) < 60)
		printf("# `%s`: %s\n", line, err ? err->msg : "?");
	novm_error_release(&err);
	return r == 0;
}

static void test_parse(void)
{
	struct control_request r;
	char line[CONTROL_MAX_GRAFT_NAME + 32];

	ok(parses("graft ctr1-rootfs", &r) && r.verb == CONTROL_GRAFT &&
		   !strcmp(r.name, "ctr1-rootfs") && r.session == 0,
	   "graft <name>");
	ok(parses("ungraft ctr1-", &r) && r.verb == CONTROL_UNGRAFT && !strcmp(r.name, "ctr1-"),
	   "ungraft <prefix>");
	ok(parses("container 300", &r) && r.verb == CONTROL_CONTAINER && r.body_len == 300 && !r.tty,
	   "container <len>");
	ok(parses("container 65536 tty", &r) && r.verb == CONTROL_CONTAINER && r.tty,
	   "container at the limit, tty");
	ok(parses("in 7 start", &r) && r.verb == CONTROL_START && r.session == 7, "in 7 start");
	ok(parses("in 7 kill 9 all", &r) && r.verb == CONTROL_KILL && r.signo == 9 && r.all &&
		   r.session == 7,
	   "in 7 kill 9 all");
	ok(parses("in 4294967294 ps", &r) && r.verb == CONTROL_PS && r.session == 4294967294u,
	   "in <largest session> ps");
	ok(parses("in 3 stats", &r) && r.verb == CONTROL_STATS && r.session == 3, "in 3 stats");
	ok(parses("in 3 resize 24 80", &r) && r.verb == CONTROL_RESIZE && r.rows == 24 &&
		   r.session == 3,
	   "in 3 resize 24 80");
	ok(parses("in 3 exec 12 tty", &r) && r.verb == CONTROL_EXEC && r.body_len == 12 && r.tty &&
		   r.session == 3,
	   "in 3 exec 12 tty");
	ok(parses("start", &r) && r.session == 0, "without in: session 0");
	memset(line, 'a', CONTROL_MAX_GRAFT_NAME);
	snprintf(line, sizeof(line), "graft %.*s", CONTROL_MAX_GRAFT_NAME,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ok(strlen(line) == 6 + CONTROL_MAX_GRAFT_NAME && parses(line, &r), "a %d-byte graft name",
	   CONTROL_MAX_GRAFT_NAME);
	strcat(line, "a");
	ok(!parses(line, &r), "a %d-byte one refused", CONTROL_MAX_GRAFT_NAME + 1);

	static const char *const bad[] = {
		"graft", "graft a b", "graft .", "graft ..", "graft a/b", "graft caf\xc3\xa9",
		"graft a\tb", "ungraft", "ungraft a b", "container", "container 0",
		"container 65537", "container 1 pty", "in", "in 7", "in 7 ", "in x start",
		"in 0 start", "in 4294967295 start", "in -1 start", "in 07x start", "in  7 start",
		"in 7 pause", "in 7 resume", "in 7 diag", "in 7 graft a", "in 7 ungraft a",
		"in 7 container 10", "in 7 nics 10", "in 7 in 8 start", "in 7 start now", "in 7 kill",
		"IN 7 start", "in 99999999999999999999999 start",
	};
	int refused = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!parses(bad[i], &r))
			refused++;
		else
			printf("# accepted `%s`\n", bad[i]);
	}
	ok(refused == (int)ARRAY_SIZE(bad), "%d malformed pod requests refused", refused);
}

/* ---- the server, with a fake pod backend ---- */

struct fake {
	bool pod;
	char graft_name[CONTROL_MAX_GRAFT_NAME + 1];
	int graft_fd, grafts, ungraft_calls;
	char ungraft_prefix[CONTROL_MAX_GRAFT_NAME + 1];
	uint32_t next_id, live;	/* the one live container's session */
	const struct agent_session_ops *ops, *start_ops;
	void *opaque, *start_opaque;
	char json[256];
	size_t len;
	uint32_t target, signal_id, query_id, resize_id, start_forgotten;
	int signo, tree_signo, stdio[3];
	char query[32];
	agent_reply_fn reply;
	void *reply_opaque;
};

static bool f_is_pod(void *be)
{
	return ((struct fake *)be)->pod;
}

static int f_graft(void *be, const char *name, int fd, novm_error_t *err)
{
	struct fake *f = be;

	if (f->graft_fd >= 0)
		close(f->graft_fd);
	f->graft_fd = fd;
	f->grafts++;
	snprintf(f->graft_name, sizeof(f->graft_name), "%s", name);
	return !strcmp(name, "taken") ? novm_error(err, 0, "graft: `taken` is grafted already")
				      : 0;
}

static unsigned f_ungraft(void *be, const char *prefix)
{
	struct fake *f = be;

	f->ungraft_calls++;
	snprintf(f->ungraft_prefix, sizeof(f->ungraft_prefix), "%s", prefix);
	return 3;
}

static void take_session(struct fake *f, const char *json, size_t len, const int stdio[3],
			 const struct agent_session_ops *ops, void *opaque, uint32_t *id)
{
	f->len = len < sizeof(f->json) - 1 ? len : sizeof(f->json) - 1;
	memcpy(f->json, json, f->len);
	f->json[f->len] = '\0';
	for (int i = 0; i < 3; i++) {
		if (f->stdio[i] >= 0)
			close(f->stdio[i]);
		f->stdio[i] = stdio[i];
	}
	f->ops = ops;
	f->opaque = opaque;
	*id = ++f->next_id;
}

static int f_container(void *be, const char *json, size_t len, const int stdio[3],
		       const struct agent_session_ops *ops, void *opaque, uint32_t *id,
		       novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	take_session(f, json, len, stdio, ops, opaque, id);
	f->live = *id;
	return 0;
}

static bool f_is_container(void *be, uint32_t id)
{
	return id && id == ((struct fake *)be)->live;
}

static int f_container_start(void *be, uint32_t id, const struct agent_session_ops *ops,
			     void *opaque, novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->target = id;
	f->start_ops = ops;
	f->start_opaque = opaque;
	return 0;
}

static void f_container_start_forget(void *be, uint32_t id)
{
	((struct fake *)be)->start_forgotten = id;
}

static int f_signal_tree(void *be, uint32_t id, int signo, novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->signal_id = id;
	f->tree_signo = signo;
	return 0;
}

static int f_session_signal(void *be, uint32_t id, int signo, novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->signal_id = id;
	f->signo = signo;
	return 0;
}

static int f_session_resize(void *be, uint32_t id, unsigned rows, unsigned cols, novm_error_t *err)
{
	(void)rows;
	(void)cols;
	(void)err;
	((struct fake *)be)->resize_id = id;
	return 0;
}

static int f_query(void *be, const char *name, agent_reply_fn fn, void *opaque, uint32_t *id,
		   novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	snprintf(f->query, sizeof(f->query), "%s", name);
	f->reply = fn;
	f->reply_opaque = opaque;
	*id = f->query_id = 1000;
	return 0;
}

static void f_query_forget(void *be, uint32_t id)
{
	(void)be;
	(void)id;
}

static int f_exec_in(void *be, uint32_t target, const char *json, size_t len, const int stdio[3],
		     const struct agent_session_ops *ops, void *opaque, uint32_t *id,
		     novm_error_t *err)
{
	struct fake *f = be;

	(void)err;
	f->target = target;
	take_session(f, json, len, stdio, ops, opaque, id);
	return 0;
}

static void f_session_forget(void *be, uint32_t id)
{
	(void)be;
	(void)id;
}

static bool f_paused(void *be)
{
	(void)be;
	return false;
}

static const struct control_backend_ops fake_ops = {
	.query = f_query,
	.query_forget = f_query_forget,
	.session_signal = f_session_signal,
	.session_resize = f_session_resize,
	.session_forget = f_session_forget,
	.paused = f_paused,
	.is_pod = f_is_pod,
	.graft = f_graft,
	.ungraft = f_ungraft,
	.container = f_container,
	.is_container = f_is_container,
	.container_start = f_container_start,
	.container_start_forget = f_container_start_forget,
	.signal_tree = f_signal_tree,
	.exec_in = f_exec_in,
};

static int pipe_end(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	close(p[0]);
	return p[1];
}

static void test_grafts(struct fake *f)
{
	int fd = client(), three[3] = { pipe_end(), pipe_end(), pipe_end() };
	const char *a;

	send_with_fds(fd, "graft ctr1-rootfs\n", &three[0], 1);
	a = read_answer(fd);
	ok(!strcmp(a, "ok") && f->grafts == 1 && !strcmp(f->graft_name, "ctr1-rootfs") &&
		   f->graft_fd >= 0 && fd_open(f->graft_fd),
	   "graft with one fd -> %s, the backend has name and fd", a);
	close(fd);

	fd = client();
	send_with_fds(fd, "graft taken\n", &three[1], 1);
	a = read_answer(fd);
	ok(!strcmp(a, "error graft: `taken` is grafted already"), "a refused graft -> %s", a);
	close(fd);

	fd = client();
	send_with_fds(fd, "graft none\n", NULL, 0);
	a = read_answer(fd);
	ok(!strcmp(a, "error graft needs 1 fd, got 0") && f->grafts == 2, "graft without fd -> %s", a);
	close(fd);

	int two[2] = { pipe_end(), pipe_end() };
	fd = client();
	send_with_fds(fd, "graft two\n", two, 2);
	a = read_answer(fd);
	ok(!strcmp(a, "error graft needs 1 fd, got 2") && f->grafts == 2, "graft with 2 fds -> %s", a);
	close(fd);
	close(two[0]);
	close(two[1]);

	fd = client();
	send_with_fds(fd, "ungraft ctr1-\n", &three[2], 1);
	a = read_answer(fd);
	ok(!strcmp(a, "error only exec, container, graft and nics take fds") && !f->ungraft_calls,
	   "ungraft with an fd -> %s", a);
	close(fd);
	ok(!strcmp(call("ungraft ctr1-\n"), "ok 3") && !strcmp(f->ungraft_prefix, "ctr1-"),
	   "ungraft <prefix> -> ok <count>");
	for (int i = 0; i < 3; i++)
		close(three[i]);
}

static void test_container(struct fake *f)
{
	static const char doc[] = "{\"id\":\"c2\",\"config\":{},\"shares\":[]}";
	int three[3] = { pipe_end(), pipe_end(), pipe_end() };
	char line[64];
	const char *a;
	int fd = client();

	snprintf(line, sizeof(line), "container %zu\n", strlen(doc));
	send_with_fds(fd, line, three, 3);
	send(fd, doc, strlen(doc), MSG_NOSIGNAL);
	serve_a_little();
	ok(!strcmp(f->json, doc) && f->ops && fd_open(f->stdio[0]), "container: the document verbatim");
	uint32_t id = f->next_id;
	f->ops->started(f->opaque, 321);
	snprintf(line, sizeof(line), "ok 321 %u", id);
	a = read_answer(fd);
	ok(!strcmp(a, line), "created -> %s", a);

	/* Requests for it on other connections. */
	snprintf(line, sizeof(line), "in %u kill 15 all\n", id);
	ok(!strcmp(call(line), "ok") && f->signal_id == id && f->tree_signo == 15,
	   "in <session> kill 15 all -> the tree");
	snprintf(line, sizeof(line), "in %u kill 2\n", id);
	ok(!strcmp(call(line), "ok") && f->signal_id == id && f->signo == 2,
	   "in <session> kill 2 -> its init");
	snprintf(line, sizeof(line), "in %u resize 30 100\n", id);
	ok(!strcmp(call(line), "ok") && f->resize_id == id, "in <session> resize");

	int q = client();
	snprintf(line, sizeof(line), "in %u ps\n", id);
	send(q, line, strlen(line), MSG_NOSIGNAL);
	serve_a_little();
	snprintf(line, sizeof(line), "ps %u", id);
	ok(!strcmp(f->query, line), "in <session> ps -> query `%s`", f->query);
	f->reply(f->reply_opaque, "[1]", 3);
	ok(!strcmp(read_answer(q), "ok [1]"), "and its answer");
	close(q);

	int s = client();
	snprintf(line, sizeof(line), "in %u start\n", id);
	send(s, line, strlen(line), MSG_NOSIGNAL);
	serve_a_little();
	ok(f->target == id && f->start_ops, "in <session> start -> the backend's container start");
	f->start_ops->started(f->start_opaque, 321);
	a = read_answer(s);
	ok(!strcmp(a, "ok 321"), "started -> %s", a);
	close(s);

	/* A start whose client goes away is forgotten by session. */
	s = client();
	snprintf(line, sizeof(line), "in %u start\n", id);
	send(s, line, strlen(line), MSG_NOSIGNAL);
	serve_a_little();
	close(s);
	serve_a_little();
	ok(f->start_forgotten == id, "a start whose client left is forgotten for that session");

	int ex[3] = { pipe_end(), pipe_end(), pipe_end() };
	int e = client();
	snprintf(line, sizeof(line), "in %u exec 2\n", id);
	send_with_fds(e, line, ex, 3);
	send(e, "{}", 2, MSG_NOSIGNAL);
	serve_a_little();
	ok(f->target == id && !strcmp(f->json, "{}") && f->next_id == id + 1,
	   "in <session> exec -> exec in that container");
	f->ops->started(f->opaque, 400);
	ok(!strcmp(read_answer(e), "ok 400"), "its pid");
	f->ops->ended(f->opaque, 0, 0, NULL);
	ok(!strcmp(read_answer(e), "exit 0 0"), "its exit");
	close(e);
	for (int i = 0; i < 3; i++)
		close(ex[i]);

	ok(!strcmp(call("in 999 start\n"), "error no container with session 999"),
	   "in <unknown session> -> error");
	f->live = 0;	/* the container's init exits */
	char want[64];
	snprintf(line, sizeof(line), "in %u ps\n", id);
	snprintf(want, sizeof(want), "error no container with session %u", id);
	ok(!strcmp(call(line), want), "in <ended container> -> error");
	for (int i = 0; i < 3; i++)
		close(three[i]);
	close(fd);
}

/* The container's connection, at the VM's stop. */
static void test_vm_stop(struct fake *f)
{
	static const char doc[] = "{}";
	int three[3] = { pipe_end(), pipe_end(), pipe_end() };
	int fd = client();

	send_with_fds(fd, "container 2\n", three, 3);
	send(fd, doc, 2, MSG_NOSIGNAL);
	serve_a_little();
	f->ops->started(f->opaque, 5);
	read_answer(fd);
	control_free(ctl);
	ctl = NULL;
	char buf[64] = "";
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	ok(n > 0 && !strcmp(buf, "exit 137 9\n"), "VM stop -> exit 137 9 for a created container");
	close(fd);
	for (int i = 0; i < 3; i++)
		close(three[i]);
}

static void server_up(struct fake *f, char *dir)
{
	novm_error_t err = NULL;

	snprintf(sock_path, sizeof(sock_path), "%s/" CONTROL_SOCKET_NAME, dir);
	if (control_new(NULL, sock_path, &fake_ops, f, &ctl, &err) < 0) {
		printf("# control_new: %s\n", err->msg);
		exit(1);
	}
}

int main(void)
{
	char dir[] = "/tmp/novm-test-control-pod-XXXXXX";
	struct fake f = { .graft_fd = -1, .stdio = { -1, -1, -1 } };

	alarm(60);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_parse();
	if (!mkdtemp(dir)) {
		printf("# no temp dir\n");
		return tap_done();
	}
	server_up(&f, dir);
	ok(!strcmp(call("ungraft x\n"), "error this VM is no pod sandbox"),
	   "ungraft on a VM without the pod share -> error");
	int three[3] = { pipe_end(), pipe_end(), pipe_end() };
	int fd = client();
	send_with_fds(fd, "container 2\n", three, 3);
	ok(!strcmp(read_answer(fd), "error this VM is no pod sandbox"),
	   "container on a VM without the pod share -> error");
	close(fd);
	ok(!strcmp(call("in 1 start\n"), "error this VM is no pod sandbox"), "in ... too");
	for (int i = 0; i < 3; i++)
		close(three[i]);

	f.pod = true;
	test_grafts(&f);
	test_container(&f);
	test_vm_stop(&f);
	if (f.graft_fd >= 0)
		close(f.graft_fd);
	rmdir(dir);
	return tap_done();
}
