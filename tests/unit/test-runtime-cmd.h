/* What the tests of novm-runc's commands share: a runtime root, the
 * containers as create leaves them (a sleeping child as their VMM), and
 * commands run with their stdout captured. */
#ifndef NOVM_TEST_RUNTIME_CMD_H
#define NOVM_TEST_RUNTIME_CMD_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/proc.h"
#include "runtime/runtime.h"
#include "runtime/state.h"
#include "util.h"

static char root[] = "/tmp/novm-test-cmds.XXXXXX";
static struct runtime_globals g = { .log_format = "text" };

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* Signals the test blocks are not the VMM's business. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		pause();
		_exit(0);
	}
	return pid;
}

/* A container as create leaves it; returns its state directory. */
static char *make_container(const char *id, pid_t vmm)
{
	struct oci_state st = {
		.oci_version = (char *)"1.2.1",
		.id = (char *)id,
		.status = OCI_STATUS_CREATED,
		.pid = vmm,
		.bundle = (char *)"/nonexistent-bundle",
		.rootfs = (char *)"/nonexistent-bundle/rootfs",
		.created = (char *)"2026-01-01T00:00:00.000000000Z",
		.owner = (char *)"",
	};
	struct vmm_record rec = { .pid = vmm };
	novm_error_t err = NULL;
	char *dir = NULL;
	int lock;

	proc_start_time(vmm, &rec.start_time);
	if (state_create_dir(root, id, &dir, &lock, &err) < 0 || state_write(dir, &st, &err) < 0 ||
	    state_write_vmm(dir, &rec, &err) < 0) {
		printf("# %s\n", err->msg);
		exit(99);
	}
	close(lock);
	return dir;
}

/* Runs a command with stdout into a buffer. */
static char *capture(int (*cmd)(const struct runtime_globals *, int, char **), int *status, int argc,
		     char **argv)
{
	FILE *tmp = tmpfile();
	int saved;
	char *out = NULL;
	size_t len = 0;

	fflush(stdout);
	saved = dup(1);
	dup2(fileno(tmp), 1);
	*status = cmd(&g, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	out = calloc(1, 1 << 16);
	len = fread(out, 1, (1 << 16) - 1, tmp);
	out[len] = '\0';
	fclose(tmp);
	return out;
}

#define RUN(cmd, ...)                                                                   \
	({                                                                              \
		char *argv_[] = { __VA_ARGS__, NULL };                                  \
		int status_;                                                            \
		free(capture(cmd, &status_, ARRAY_SIZE(argv_) - 1, argv_));             \
		status_;                                                                \
	})

#define OUTPUT(out, status, cmd, ...)                                                   \
	do {                                                                            \
		char *argv_[] = { __VA_ARGS__, NULL };                                  \
		out = capture(cmd, &status, ARRAY_SIZE(argv_) - 1, argv_);              \
	} while (0)

static const char *status_of(const char *id)
{
	static char status[64];
	struct ctr_state st;

	if (state_load(root, id, &st, NULL) < 0)
		return "gone";
	snprintf(status, sizeof(status), "%s", st.status);
	ctr_state_release(&st);
	return status;
}

#endif
