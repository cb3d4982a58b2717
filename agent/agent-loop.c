/* Container mode: the sequence (channel, READY, CONFIG, the init forked
 * into the container's namespaces, where it builds the root) and PID 1's
 * loop over the channel, the sessions and SIGCHLD. */
#include "agent-loop.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "action.h"
#include "cleanup.h"
#include "cmdline.h"
#include "dns-relay.h"
#include "hostconfig.h"
#include "link.h"
#include "log.h"
#include "loopback.h"
#include "guestctr.h"
#include "oci/json.h"
#include "pods.h"
#include "replies.h"
#include "session.h"
#include "util.h"

#define PRINTK_PATH "/proc/sys/kernel/printk"
#define REBOOT_TYPE_PATH "/sys/kernel/reboot/type"
/* The exit status reported when the agent itself could not set up the
 * container or a session (runc exits 1 for its own failures). */
#define SETUP_FAILED_STATUS 1

struct container {
	struct link link;
	struct guest_ctr sandbox;	/* session 0 */
	struct pod_table pods;
	struct session_table sessions;
	struct dns_relay dns;
	int sigchld_fd;
	bool host_gone;
};

bool container_mode_requested(void)
{
	cleanup_free char *cmdline = NULL, *mode = NULL;
	novm_error_t err = NULL;

	if (read_file("/proc/cmdline", &cmdline, NULL, &err) < 0) {
		novm_error_release(&err);
		return false;
	}
	mode = cmdline_get(cmdline, AGENT_MODE_KEY);
	return mode && strcmp(mode, AGENT_MODE_CONTAINER) == 0;
}

static void write_proc_file(const char *path, const char *text)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		agent_say("warning: write `%s`: %s", path, strerror(errno));
}

/* Done while the initramfs's /proc and /sys are still in reach: after the
 * switch they may not exist in the container. */
static void prepare_guest(void)
{
	/* Kernel messages stay off the console the container's output may
	 * be compared with; they never reach the channel anyway. */
	write_proc_file(PRINTK_PATH, "1");
	/* The VMM takes a keyboard-controller reset as a clean stop. */
	write_proc_file(REBOOT_TYPE_PATH, "kbd");
}

static int send_exit(struct container *c, uint32_t session, int status, novm_error_t *err)
{
	struct proto_exit ex = { .status = (int32_t)htole32((uint32_t)status), .signal = 0 };

	return link_send(&c->link, PROTO_EXIT, session, &ex, sizeof(ex), err);
}

/* A session that never got a process: PROTO_ERROR with why, then its end. */
static void report_setup_failure(struct container *c, uint32_t session, novm_error_t *failure)
{
	novm_error_t err = NULL;
	const char *msg = *failure ? (*failure)->msg : "unknown error";

	agent_say("error: session %u: %s", session, msg);
	if (link_send_text(&c->link, PROTO_ERROR, session, msg, &err) < 0 ||
	    send_exit(c, session, SETUP_FAILED_STATUS, &err) < 0)
		agent_warn(&err, "channel");
	novm_error_release(failure);
}

/* ---- frames from the host ---- */

/* A frame starting a session the host names must not take over one that
 * runs: that one's frames would be mixed with the newcomer's. */
static bool session_free_for(struct container *c, const char *what, uint32_t session)
{
	if (session == PROTO_SESSION_ALL || session_exists(&c->sessions, session)) {
		agent_log("%s: session %u is in use", what, session);
		return false;
	}
	return true;
}

/* PROTO_EXEC (g: the sandbox) and PROTO_EXEC_IN (g: the pod container
 * named, NULL for none). */
static void exec_in(struct container *c, struct guest_ctr *g, const struct link_frame *f,
		    const char *json, size_t len)
{
	struct oci_process proc;
	novm_error_t err = NULL;

	if (!session_free_for(c, "exec", f->session))
		return;
	if (!g) {
		novm_error(&err, 0, "EXEC_IN: no such pod container");
		report_setup_failure(c, f->session, &err);
		return;
	}
	if (oci_process_parse("EXEC", json, len, &proc, &err) < 0) {
		report_setup_failure(c, f->session, &err);
		return;
	}
	if (guest_ctr_exec(g, &c->sessions, f->session, &proc, &err) < 0)
		report_setup_failure(c, f->session, &err);
	oci_process_release(&proc);
}

static void start_exec_in(struct container *c, const struct link_frame *f)
{
	const char *json = NULL;
	size_t len = 0;
	uint32_t target = 0;
	novm_error_t err = NULL;

	if (agent_exec_in_split(f->payload, f->len, &target, &json, &len, &err) < 0) {
		if (session_free_for(c, "exec", f->session))
			report_setup_failure(c, f->session, &err);
		novm_error_release(&err);
		return;
	}
	exec_in(c, target == 0 ? &c->sandbox : pods_find(&c->pods, target), f, json, len);
}

static void create_pod_container(struct container *c, const struct link_frame *f)
{
	novm_error_t err = NULL;
	bool forked = false;

	pid_t sandbox_init = session_pid(&c->sessions, 0);

	if (f->session == 0 || !session_free_for(c, "container", f->session))
		return;
	/* Its namespaces are joined from the sandbox's init. */
	if (sandbox_init <= 0)
		novm_error(&err, 0, "the pod's sandbox has no process to join");
	if (err || pods_create(&c->pods, &c->sessions, f->session, (const char *)f->payload, f->len,
			       sandbox_init, &forked, &err) < 0) {
		/* A forked init's end is reported when it comes. */
		if (forked) {
			agent_say("error: session %u: %s", f->session, err->msg);
			if (link_send_text(&c->link, PROTO_ERROR, f->session, err->msg, &err) < 0)
				agent_warn(&err, "channel");
			novm_error_release(&err);
		} else {
			report_setup_failure(c, f->session, &err);
		}
		return;
	}
	if (link_send(&c->link, PROTO_CREATED, f->session, NULL, 0, &err) < 0)
		agent_warn(&err, "channel");
}

static int read_signal(const struct link_frame *f, const char *what, int *sig, novm_error_t *err)
{
	uint32_t le;

	if (f->len != sizeof(le))
		return novm_error(err, 0, "%s: payload of %u bytes", what, f->len);
	memcpy(&le, f->payload, sizeof(le));
	*sig = (int)le32toh(le);
	return 0;
}

static void dispatch(struct container *c, const struct link_frame *f)
{
	novm_error_t err = NULL;
	int r = 0, sig = 0;

	switch (f->type) {
	case PROTO_START:
		r = session_start(&c->sessions, f->session, &err);
		break;
	case PROTO_STDIN:
		r = session_stdin(&c->sessions, f->session, f->payload, f->len, &err);
		break;
	case PROTO_SIGNAL:
		r = read_signal(f, "SIGNAL", &sig, &err);
		if (r == 0 && f->session == PROTO_SESSION_ALL)
			r = pods_signal_tree(&c->pods, &c->sandbox, 0, sig, &err);
		else if (r == 0)
			r = session_signal(&c->sessions, f->session, sig, &err);
		break;
	case PROTO_SIGNAL_TREE:
		r = read_signal(f, "SIGNAL_TREE", &sig, &err);
		if (r == 0)
			r = pods_signal_tree(&c->pods, &c->sandbox, f->session, sig, &err);
		break;
	case PROTO_RESIZE: {
		struct proto_winsize ws;

		if (f->len != sizeof(ws)) {
			r = novm_error(&err, 0, "RESIZE: payload of %u bytes", f->len);
			break;
		}
		memcpy(&ws, f->payload, sizeof(ws));
		r = session_resize(&c->sessions, f->session, le16toh(ws.rows), le16toh(ws.cols),
				   &err);
		break;
	}
	case PROTO_EXEC:
		exec_in(c, &c->sandbox, f, (const char *)f->payload, f->len);
		break;
	case PROTO_EXEC_IN:
		start_exec_in(c, f);
		break;
	case PROTO_CONTAINER:
		create_pod_container(c, f);
		break;
	case PROTO_QUERY:
		reply_query(&c->link, &c->pods, f);
		break;
	case PROTO_NETWORK:
		reply_network(&c->link, f);
		break;
	case PROTO_DNS_ANSWER:
		dns_relay_answer(&c->dns, f->payload, f->len);
		break;
	default:
		agent_log("channel: frame type %u ignored", f->type);
		break;
	}
	if (r < 0) {
		agent_log("channel: %s", err->msg);
		novm_error_release(&err);
	}
}

/* Handles every whole frame the decoder holds.  -1 when framing is lost. */
static int dispatch_buffered(struct container *c, novm_error_t *err)
{
	struct link_frame f;
	int r;

	while ((r = link_decoder_next(&c->link.dec, &f, err)) > 0)
		dispatch(c, &f);
	return r;
}

/* Reads what the channel has and handles it.  Returns -1 when the channel
 * is lost (framing or I/O), 0 otherwise. */
static int read_channel(struct container *c, novm_error_t *err)
{
	int r = link_fill(&c->link, err);

	if (r < 0)
		return -1;
	if (r == 0) {
		c->host_gone = true;
		return 0;
	}
	return dispatch_buffered(c, err);
}

/* ---- setup ---- */

static int send_ready(struct container *c, novm_error_t *err)
{
	struct utsname u;

	if (uname(&u) < 0)
		return novm_error(err, errno, "uname");
	return link_send_text(&c->link, PROTO_READY, 0, u.release, err);
}

/* Waits for PROTO_CONFIG, answering queries meanwhile. */
static int receive_config(struct container *c, novm_error_t *err)
{
	for (;;) {
		struct link_frame f;
		int r;

		while ((r = link_decoder_next(&c->link.dec, &f, err)) > 0) {
			if (f.type == PROTO_CONFIG)
				return agent_config_parse((const char *)f.payload, f.len,
							  &c->sandbox.cfg, err);
			if (f.type == PROTO_QUERY)
				reply_query(&c->link, &c->pods, &f);
			else
				agent_log("channel: frame type %u before CONFIG ignored", f.type);
		}
		if (r < 0)
			return -1;
		r = link_fill(&c->link, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return novm_error(err, 0, "channel: the host closed it before CONFIG");
	}
}

static int open_sigchld(novm_error_t *err)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return novm_error(err, errno, "block SIGCHLD");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return novm_error(err, errno, "signalfd");
	return fd;
}

static void drain_signalfd(int fd)
{
	struct signalfd_siginfo si[8];

	while (read(fd, si, sizeof(si)) > 0)
		;
}

/* ---- the loop ---- */

/* The channel, SIGCHLD and the DNS relay (fd -1 when there is none), then
 * the sessions'. */
#define FIXED_POLLFDS 3

static int run_loop(struct container *c, novm_error_t *err)
{
	cleanup_free struct pollfd *fds = NULL;
	cleanup_free struct session_pollref *refs = NULL;
	size_t cap = 0;

	/* Frames that came with CONFIG (START, STDIN, ...) are buffered already:
	 * poll() would not report them. */
	if (dispatch_buffered(c, err) < 0)
		return -1;
	for (;;) {
		bool init_exited = false;
		size_t need = FIXED_POLLFDS + SESSION_MAX_POLLFDS * c->sessions.len, n;
		int r;

		if (need > cap) {
			struct pollfd *f = realloc(fds, need * sizeof(*fds));
			struct session_pollref *p;

			if (!f)
				return novm_error(err, ENOMEM, "poll");
			fds = f;
			p = realloc(refs, need * sizeof(*refs));
			if (!p)
				return novm_error(err, ENOMEM, "poll");
			refs = p;
			cap = need;
		}
		/* Too much stdin queued: stop reading the channel, which makes
		 * the host wait instead of the agent growing without bound. */
		fds[0] = (struct pollfd){
			.fd = c->host_gone ? -1 : c->link.fd,
			.events = sessions_stdin_backlog(&c->sessions) < SESSION_STDIN_BACKLOG ? POLLIN
											       : 0,
		};
		fds[1] = (struct pollfd){ .fd = c->sigchld_fd, .events = POLLIN };
		fds[2] = (struct pollfd){ .fd = c->dns.fd, .events = POLLIN };
		n = sessions_fill_poll(&c->sessions, fds + FIXED_POLLFDS, refs + FIXED_POLLFDS);

		r = poll(fds, n + FIXED_POLLFDS, sessions_poll_timeout(&c->sessions));
		if (r < 0 && errno != EINTR)
			return novm_error(err, errno, "poll");
		if (r > 0 && fds[1].revents) {
			drain_signalfd(c->sigchld_fd);
			sessions_reap(&c->sessions);
		}
		if (r > 0 && fds[2].revents)
			dns_relay_read(&c->dns, &c->link);
		if (r > 0 && sessions_handle(&c->sessions, fds + FIXED_POLLFDS, refs + FIXED_POLLFDS, n,
					     err) < 0)
			return -1;
		if (r > 0 && fds[0].revents && read_channel(c, err) < 0)
			return -1;
		if (c->host_gone) {
			agent_say("channel: the host closed it");
			return 0;
		}
		if (sessions_finish(&c->sessions, &init_exited, err) < 0)
			return -1;
		pods_collect(&c->pods, &c->sessions);
		if (init_exited)
			return 0;
	}
}

static int setup(struct container *c, novm_error_t *err)
{
	struct agent_config *cfg = &c->sandbox.cfg;
	bool forked;

	if (receive_config(c, err) < 0)
		return -1;
	if (loopback_up(err) < 0 || agent_network_apply(&cfg->network, err) < 0 ||
	    (cfg->network.dns_relay && dns_relay_open(&c->dns, cfg->network.dns_relay, err) < 0))
		return -1;
	session_table_init(&c->sessions, &c->link);
	if (guest_ctr_create(&c->sandbox, &c->sessions, 0, &forked, err) < 0)
		return -1;
	if (cfg->start && session_start(&c->sessions, 0, err) < 0)
		return -1;
	/* The host's `create` returns once the container exists. */
	return link_send(&c->link, PROTO_CREATED, 0, NULL, 0, err);
}

__attribute__((noreturn)) void container_run(void)
{
	static struct container c = {
		.link = { .fd = -1 },
		.sandbox = { .session = 0 },
		.sigchld_fd = -1,
		.dns = { .fd = -1 },
	};
	enum agent_action action = action_from_cmdline();
	novm_error_t err = NULL;

	prepare_guest();
	/* Writes to a stdin pipe whose reader left must fail, not kill PID 1. */
	signal(SIGPIPE, SIG_IGN);
	c.sigchld_fd = open_sigchld(&err);
	if (c.sigchld_fd < 0) {
		agent_warn(&err, "container");
		action_run(AGENT_ACTION_PANIC);
	}
	/* Without a channel nobody hears about any failure: a panic at least
	 * makes the VMM report one. */
	if (link_open(&c.link, LINK_DEVICE, LINK_WAIT_MS, &err) < 0 ||
	    send_ready(&c, &err) < 0) {
		agent_warn(&err, "container");
		action_run(AGENT_ACTION_PANIC);
	}
	link_set_log_channel(&c.link);
	if (setup(&c, &err) < 0) {
		report_setup_failure(&c, 0, &err);
	} else if (run_loop(&c, &err) < 0) {
		agent_warn(&err, "container");
	}
	session_table_release(&c.sessions);
	dns_relay_close(&c.dns);
	pods_release(&c.pods);
	guest_ctr_release(&c.sandbox);
	sync();
	action_run(action);
}
