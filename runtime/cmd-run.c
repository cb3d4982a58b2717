/* novm-runc run: create and run a container in its own VM, in the
 * foreground; exits with the container's status like runc. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent-link.h"
#include "cleanup.h"
#include "container.h"
#include "log.h"
#include "oci/spec.h"
#include "runtime.h"
#include "state.h"
#include "util.h"
#include "vmm.h"

struct run_options {
	const char *bundle;
	const char *pid_file;
	bool detach;
};

static int parse_run_options(int argc, char **argv, struct run_options *o, const char **id)
{
	static const struct option options[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "detach", no_argument, NULL, 'd' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'k' },
		{ "keep", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "b:dh", options, NULL)) != -1) {
		switch (opt) {
		case 'b': o->bundle = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'd': o->detach = true; break;
		case 'h':
			printf("usage: novm-runc run [--bundle DIR] [--pid-file F] <container-id>\n");
			return 1;
		case 'c': case 'f': case 'n': case 'k': case 'K':
			break;	/* accepted as runc does; nothing to do for a VM */
		default:
			return -1;
		}
	}
	if (optind + 1 != argc)
		return -2;
	*id = argv[optind];
	return 0;
}

static int write_pid_file(const char *path, pid_t pid, novm_error_t *err)
{
	char buf[32];
	/* No trailing newline: clients parse the file strictly. */
	int n = snprintf(buf, sizeof(buf), "%d", pid);
	return write_file_atomic(path, buf, n, 0644, err);
}

static char *now_rfc3339(void)
{
	char buf[64];
	struct timespec ts;
	struct tm tm;
	char *out = NULL;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (asprintf(&out, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
		return NULL;
	return out;
}

static int record_running(const char *dir, const char *id, const struct oci_spec *spec, novm_error_t *err)
{
	cleanup_free char *created = now_rfc3339();
	struct oci_state st = {
		.oci_version = (char *)OCI_SPEC_VERSION,
		.id = (char *)id,
		.status = OCI_STATUS_RUNNING,
		.pid = getpid(),
		.bundle = spec->bundle,
		.annotations = spec->annotations,
		.n_annotations = spec->n_annotations,
		.rootfs = spec->root.path,
		.created = created,
		.owner = (char *)"",
	};
	return state_write(dir, &st, err);
}

/* The exit status runc would give, and a message when the VM (rather than
 * the process) failed. */
static int run_status(const struct vmm_result *res, novm_error_t *err)
{
	if (res->agent_error[0])
		novm_error(err, 0, "runc run failed: unable to start container process: %s", res->agent_error);
	if (res->container_status >= 0)
		return res->container_status;
	if (!*err)
		novm_error(err, 0, "container VM stopped before the process exited: %s", res->message);
	return res->reason == VM_EXIT_SIGNAL ? 130 : 1;
}

int cmd_run(const struct runtime_globals *g, int argc, char **argv)
{
	struct run_options o = { .bundle = "." };
	cleanup_error novm_error_t err = NULL;
	cleanup_oci_spec struct oci_spec *spec = NULL;
	cleanup_free char *dir = NULL, *config_text = NULL, *config_path = NULL, *console_path = NULL;
	cleanup_close int console_fd = -1;
	struct container_vm cvm = { 0 };
	const char *id = NULL;
	size_t config_len;
	int status = 1;

	switch (parse_run_options(argc, argv, &o, &id)) {
	case 0: break;
	case 1: return 0;
	case -2:
		novm_error(&err, 0, "run: \"run\" requires exactly 1 argument(s)");
		log_error_and_release(&err);
		return 1;
	default: return 1;
	}
	if (o.detach) {
		novm_error(&err, 0, "run --detach: not supported yet; use create and start");
		log_error_and_release(&err);
		return 1;
	}
	if (state_check_id(id, &err) < 0 || oci_spec_load(o.bundle, &spec, &err) < 0)
		goto out;
	if (asprintf(&config_path, "%s/config.json", spec->bundle) < 0 ||
	    read_file(config_path, &config_text, &config_len, &err) < 0)
		goto out;
	if (container_vm_prepare(spec, config_text, true, &cvm, &err) < 0)
		goto out;
	if (state_create_dir(g->root, id, &dir, &err) < 0)
		goto out;
	if (record_running(dir, id, spec, &err) < 0 ||
	    (o.pid_file && write_pid_file(o.pid_file, getpid(), &err) < 0))
		goto out;
	/* Guest kernel messages go to a log, never to the container's stdout. */
	if (asprintf(&console_path, "%s/console.log", dir) < 0)
		goto out;
	console_fd = open(console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (console_fd < 0) {
		novm_error(&err, errno, "open `%s`", console_path);
		goto out;
	}

	const struct agent_link_config agent = {
		.stdin_fd = STDIN_FILENO,
		.stdout_fd = STDOUT_FILENO,
		.stderr_fd = STDERR_FILENO,
		.config = cvm.agent_config,
		.config_len = cvm.agent_config_len,
	};
	const struct vm_config cfg = {
		.kernel_path = cvm.kernel.vmlinux,
		.setup_header_path = cvm.kernel.bzimage,
		.initrd_path = cvm.initrd,
		.cmdline = cvm.cmdline,
		.nr_cpus = cvm.vcpus,
		.mem_size = cvm.memory,
		.console_fd = console_fd,
		.console_in_fd = -1,
		.shares = cvm.shares,
		.nr_shares = cvm.nr_shares,
		.agent = &agent,
	};
	struct vmm_result res = { 0 };
	log_msg(LOG_LEVEL_DEBUG, "run %s: %d vCPUs, %llu MiB, kernel %s", id, cvm.vcpus,
		(unsigned long long)(cvm.memory >> 20), cvm.kernel.vmlinux);
	if (vmm_run(&cfg, &res, &err) < 0)
		goto out;
	status = run_status(&res, &err);
	if (err && res.container_status < 0 && getenv("NOVM_DEBUG_CONSOLE")) {
		/* Left for debugging: the console log survives in a copy. */
		cleanup_free char *copy = NULL;
		if (asprintf(&copy, "/tmp/novm-console-%s.log", id) >= 0)
			copy_file(console_path, copy, 0600, NULL);
	}
out:
	container_vm_release(&cvm);
	if (dir)
		state_remove_dir(dir);
	if (err)
		log_error_and_release(&err);
	return status;
}
