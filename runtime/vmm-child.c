#include "vmm-child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "console-socket.h"
#include "control-client.h"
#include "log.h"
#include "util.h"
#include "vmm/vmm.h"

void vmm_child_report(int fd, const char *line)
{
	size_t len = strlen(line);

	/* A pipe write of at most PIPE_BUF bytes is never split. */
	if (len > 4000)
		len = 4000;
	if (write(fd, line, len) < 0) {
		/* The parent gave up waiting: nobody to tell. */
	}
}

static __attribute__((noreturn)) void fail(int ready_fd, novm_error_t *err)
{
	cleanup_free char *line = NULL;

	if (asprintf(&line, "error %s\n", *err ? (*err)->msg : "unknown error") >= 0) {
		/* One line: newlines inside the message would cut it. */
		for (char *p = line; p[1]; p++)
			if (*p == '\n')
				*p = ' ';
		vmm_child_report(ready_fd, line);
	}
	novm_error_release(err);
	_exit(1);
}

static bool kept(int fd, const int *keep, int n)
{
	for (int i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Whatever the caller let us inherit (fds without close-on-exec beyond
 * stdio: extra pipes, --preserve-fds) must not be held open by a VMM that
 * lives as long as the container: clients wait for EOF on them.  Our own
 * fds are all close-on-exec and closed explicitly. */
static void close_inherited_fds(const int *keep, int n)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[1024], count = 0;
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) && count < (int)ARRAY_SIZE(fds)) {
		int fd = atoi(de->d_name);
		if (fd <= 2 || fd == dirfd(d) || kept(fd, keep, n))
			continue;
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC))
			fds[count++] = fd;
	}
	closedir(d);
	for (int i = 0; i < count; i++)
		close(fds[i]);
}

/* The pty slave becomes our controlling terminal and stdio, then the master
 * goes to the console socket: the listener can size the terminal at once
 * and we get the SIGWINCH. */
static int setup_terminal(const struct vmm_child_args *a, novm_error_t *err)
{
	char name[128];

	if (ioctl(a->pty_slave, TIOCSCTTY, 0) < 0)
		return novm_error(err, errno, "make the pseudo-terminal the controlling terminal");
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(a->pty_slave, fd) < 0)
			return novm_error(err, errno, "use the pseudo-terminal as stdio");
	if (ptsname_r(a->pty_master, name, sizeof(name)) != 0)
		snprintf(name, sizeof(name), "/dev/ptmx");
	if (console_socket_send(a->console_socket, a->pty_master, name, err) < 0)
		return -1;
	close(a->pty_master);
	if (a->pty_slave > 2)
		close(a->pty_slave);
	return 0;
}

/* Window size changes reach the guest as `resize` requests on our own
 * control socket.  Until the VMM answers (its socket is not up yet, or the
 * process not created), the last size is retried.  The first look needs no
 * signal: the console socket's listener usually sizes the terminal as soon
 * as it has the master, before this thread runs. */
static void *forward_window_size(void *opaque)
{
	const char *dir = opaque;
	const struct timespec retry = { 0, 200 * 1000 * 1000 };
	bool pending = true;
	sigset_t winch;

	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	for (bool first = true;; first = false) {
		int sig = first ? SIGWINCH : sigtimedwait(&winch, NULL, pending ? &retry : NULL);
		if (sig < 0 && errno != EAGAIN)
			continue;
		struct winsize ws;
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col) {
			pending = false;
			continue;
		}
		char request[64];
		novm_error_t err = NULL;
		snprintf(request, sizeof(request), CONTROL_REQ_RESIZE " %u %u", ws.ws_row, ws.ws_col);
		pending = ctl_call(dir, request, NULL, &err) < 0;
		novm_error_release(&err);
	}
	return NULL;
}

/* SIGWINCH must be blocked (block_window_size_signal) since before the
 * master left. */
static void start_window_size_forwarder(const char *dir)
{
	if (thread_start_detached(forward_window_size, (void *)dir) != 0)
		log_msg(LOG_LEVEL_DEBUG, "no window size forwarding: cannot start its thread");
}

/* Blocked in every thread (the VMM's inherit it), taken by the forwarder's
 * sigtimedwait; blocked before the master goes out, or a resize made at
 * once would be lost to SIGWINCH's default action, which discards it. */
static void block_window_size_signal(void)
{
	sigset_t winch;

	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &winch, NULL);
}

/* The VMM takes its signals through signalfd and kicks vCPUs with
 * SIGUSR1: none may stay blocked or ignored as our caller (or `run`, which
 * blocks what it forwards) left them. */
static void reset_signals(void)
{
	static const int used[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (size_t i = 0; i < ARRAY_SIZE(used); i++)
		sigaction(used[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The guest's last words (a panic, an oops), after the reason the VMM
 * saw: the console log goes with the state directory at delete. */
#define CONSOLE_TAIL_LINES 8
#define CONSOLE_TAIL_BYTES 4096

static void print_console_tail(const char *dir, const char *id)
{
	cleanup_free char *path = NULL;
	cleanup_close int fd = -1;
	char buf[CONSOLE_TAIL_BYTES + 1];	/* room for the last line's NUL */
	struct stat st;
	ssize_t n;
	size_t at;

	if (asprintf(&path, "%s/console.log", dir) < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	n = pread(fd, buf, CONSOLE_TAIL_BYTES,
		  st.st_size > CONSOLE_TAIL_BYTES ? st.st_size - CONSOLE_TAIL_BYTES : 0);
	if (n <= 0)
		return;
	at = text_tail(buf, (size_t)n, CONSOLE_TAIL_LINES);
	for (char *line = buf + at, *end; line < buf + n; line = end + 1) {
		end = memchr(line, '\n', (size_t)(buf + n - line));
		if (!end)
			end = buf + n;
		char *last = end;

		while (last > line && last[-1] == '\r')
			last--;
		*last = '\0';
		/* The guest wrote it: no terminal escapes reach the user. */
		fprintf(stderr, "novm: container %s: console: ", id);
		fputs_escaped(line, stderr);
		fputc('\n', stderr);
	}
}

/* The parent runs the create hooks meanwhile; EOF means it gave up. */
static int wait_go(int fd, novm_error_t *err)
{
	char buf[8];
	size_t len = 0;

	while (len < 3) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return novm_error(err, n < 0 ? errno : 0, "create gave up before the guest booted");
		len += (size_t)n;
	}
	if (memcmp(buf, "go\n", 3))
		return novm_error(err, 0, "unexpected word from create");
	return 0;
}

/* A namespace of our own that is still empty may get its links before
 * start (ctr's CNI): spare NICs wait for them (netconf.h). */
static int add_spares(const struct vmm_child_args *a, struct vm_nic *nics, int *nr_nics,
		      novm_error_t *err)
{
	for (int i = 0; i < NET_SPARE_NICS; i++) {
		nics[i] = (struct vm_nic){ .tap_fd = -1 };
		net_spare_mac(i, nics[i].mac);
	}
	*nr_nics = NET_SPARE_NICS;
	log_msg(LOG_LEVEL_DEBUG, "network: no link yet: %d spare NICs for the links start finds",
		NET_SPARE_NICS);
	return net_record_spares(a->dir, NET_SPARE_NICS, err);
}

/* Every link the client put in the namespace becomes a NIC of the same MAC,
 * joined to it by a tap of ours (netconf.h); the agent gets the rest. */
static int setup_network(const struct vmm_child_args *a, struct vm_nic *nics, int *nr_nics,
			 novm_error_t *err)
{
	struct net_plan plan;

	*nr_nics = 0;
	if (net_discover(&plan, err) < 0)
		return -1;
	if (!plan.nr_ifaces && a->netns->unshare && add_spares(a, nics, nr_nics, err) < 0)
		return -1;
	/* First, so that delete finds what a failure halfway left. */
	if (a->netns->path && net_record(a->dir, a->netns->path, &plan, err) < 0)
		return -1;
	for (int i = 0; i < plan.nr_ifaces; i++) {
		struct vm_nic *nic = &nics[i];

		if (net_connect(&plan.ifaces[i], &nic->tap_fd, err) < 0)
			return -1;
		nic->tap = NULL;
		memcpy(nic->mac, plan.ifaces[i].mac, sizeof(nic->mac));
		*nr_nics = i + 1;
		log_msg(LOG_LEVEL_DEBUG, "network: link %s (%d addresses) is NIC %d", plan.ifaces[i].name,
			plan.ifaces[i].nr_addrs, i + 1);
	}
	if (net_watch_start(&plan, plan.nr_ifaces ? 0 : *nr_nics, err) < 0)
		return -1;
	return container_vm_set_network(a->cvm, &plan, err);
}

void vmm_child_main(const struct vmm_child_args *a)
{
	struct vm_nic nics[NET_MAX_IFACES];
	int nr_nics = 0;
	novm_error_t err = NULL;
	cleanup_free char *socket_path = NULL;
	int dir_fd, report_fd;
	struct sigaction ign = { .sa_handler = SIG_IGN };

	for (int i = 0; i < a->nr_parent_fds; i++)
		if (a->parent_fds[i] >= 0)
			close(a->parent_fds[i]);
	reset_signals();
	/* A reader that went away must cost an EPIPE, never the VM. */
	sigaction(SIGPIPE, &ign, NULL);
	/* Our own session: the caller's terminal signals reach the caller
	 * (which forwards them), not the VMM. */
	if (setsid() < 0)
		novm_error(&err, errno, "setsid");
	if (!err && a->pty_slave >= 0) {
		block_window_size_signal();
		setup_terminal(a, &err);
	}
	if (!err)
		netns_enter(a->netns, &err);
	if (err)
		fail(a->ready_fd, &err);
	if (a->cgroup && cgroup_enter(a->cgroup, &err) < 0) {
		log_msg(LOG_LEVEL_DEBUG, "container %s stays outside its cgroup: %s", a->id, err->msg);
		novm_error_release(&err);
	}
	/* Without --log, the VMM's warnings go to the console log (whose
	 * tail is shown when the VM dies), never into the container's
	 * stderr. */
	log_redirect_stderr(a->console_log_fd);
	vmm_child_report(a->ready_fd, "netns\n");
	if (wait_go(a->go_fd, &err) < 0 || setup_network(a, nics, &nr_nics, &err) < 0)
		fail(a->ready_fd, &err);
	close(a->go_fd);

	dir_fd = open(a->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* Our own copy of the ready pipe for errors the VMM cannot write (it
	 * closes its copy once it reported). */
	report_fd = fcntl(a->ready_fd, F_DUPFD_CLOEXEC, 3);
	const int keep[] = { a->ready_fd, a->console_log_fd, dir_fd, report_fd };
	close_inherited_fds(keep, ARRAY_SIZE(keep));
	if (dir_fd < 0 || report_fd < 0) {
		novm_error(&err, errno, "state directory `%s`", a->dir);
		fail(a->ready_fd, &err);
	}
	if (ctl_socket_path(a->dir, dir_fd, &socket_path, &err) < 0)
		fail(a->ready_fd, &err);
	if (a->pty_slave >= 0)
		start_window_size_forwarder(a->dir);

	const struct container_vm *cvm = a->cvm;
	const struct agent_link_config agent = {
		.stdin_fd = STDIN_FILENO,
		.stdout_fd = STDOUT_FILENO,
		.stderr_fd = STDERR_FILENO,
		.config = cvm->agent_config,
		.config_len = cvm->agent_config_len,
		.dns_server = cvm->dns_relay,
	};
	const struct vm_config cfg = {
		.kernel_path = cvm->kernel.vmlinux,
		.setup_header_path = cvm->kernel.bzimage,
		.initrd_path = cvm->initrd,
		.cmdline = cvm->cmdline,
		.nr_cpus = cvm->vcpus,
		.mem_size = cvm->memory,
		.console_fd = a->console_log_fd,
		.console_in_fd = -1,
		.console_capped = true,
		.shares = cvm->shares,
		.nr_shares = cvm->nr_shares,
		.pod_share = cvm->pod_share,
		.agent = &agent,
		.control_socket = socket_path,
		.nics = nics,
		.nr_nics = nr_nics,
		.ready_fd = a->ready_fd,
	};
	struct vmm_result res = { 0 };
	log_msg(LOG_LEVEL_DEBUG, "container %s: VMM %d, %d vCPUs, %llu MiB, kernel %s", a->id, getpid(),
		cvm->vcpus, (unsigned long long)(cvm->memory >> 20), cvm->kernel.vmlinux);
	if (vmm_run(&cfg, &res, &err) < 0)
		fail(report_fd, &err);
	if (res.container_status < 0 && res.created) {
		/* The caller stopped listening on the ready pipe once the
		 * container was created: the container's stderr is the one
		 * place left where a user (or `docker logs`) sees why. */
		fprintf(stderr, "novm: container %s: the VM stopped before its process exited: %s\n",
			a->id, res.agent_error[0] ? res.agent_error : res.message);
		print_console_tail(a->dir, a->id);
	} else if (res.container_status < 0) {
		/* Never created, or gone before its process ran: say why, in case
		 * the VMM could not (the parent reads the first line only). */
		novm_error(&err, 0, "%s", res.agent_error[0] ? res.agent_error : res.message);
		cleanup_free char *line = NULL;
		if (asprintf(&line, "error %s\n", err->msg) >= 0)
			vmm_child_report(report_fd, line);
		novm_error_release(&err);
	}
	close(report_fd);
	vmm_exit_like_container(&res);
}
