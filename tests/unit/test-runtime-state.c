/* The state directory: exclusive creation, the lock (and deletion while
 * someone waits for it), live status from the VMM's pid and start time,
 * listing, exec records. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/proc.h"
#include "runtime/state.h"
#include "tap.h"
#include "util.h"

static char root[] = "/tmp/novm-test-state.XXXXXX";

static bool err_is(novm_error_t *err, const char *msg)
{
	bool r = *err && !strcmp((*err)->msg, msg);
	if (!r)
		printf("# error: %s\n", *err ? (*err)->msg : "(none)");
	novm_error_release(err);
	return r;
}

static pid_t sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static int record(const char *dir, const char *id, enum oci_status status, pid_t pid, bool paused)
{
	struct oci_state st = {
		.oci_version = (char *)"1.2.1",
		.id = (char *)id,
		.status = status,
		.pid = pid,
		.bundle = (char *)"/bundle",
		.rootfs = (char *)"/bundle/rootfs",
		.created = (char *)"2026-01-01T00:00:00.000000000Z",
		.owner = (char *)"",
	};
	struct vmm_record vmm = { .pid = pid, .paused = paused, .cgroup = (char *)"/sys/fs/cgroup/x" };
	novm_error_t err = NULL;

	if (pid)
		proc_start_time(pid, &vmm.start_time);
	if (state_write(dir, &st, &err) < 0 || (pid && state_write_vmm(dir, &vmm, &err) < 0)) {
		printf("# %s\n", err->msg);
		novm_error_release(&err);
		return -1;
	}
	return 0;
}

static const char *status_of(const char *id, int *pid)
{
	static char status[32];
	struct ctr_state st;
	novm_error_t err = NULL;

	if (state_load(root, id, &st, &err) < 0) {
		snprintf(status, sizeof(status), "error: %s", err->msg);
		novm_error_release(&err);
		return status;
	}
	snprintf(status, sizeof(status), "%s", st.status);
	if (pid)
		*pid = st.oci->pid;
	ctr_state_release(&st);
	return status;
}

static void test_create_and_load(void)
{
	novm_error_t err = NULL;
	char *dir = NULL, *dir2 = NULL;
	int lock = -1, lock2 = -1, pid = -1;

	ok(state_create_dir(root, "c1", &dir, &lock, &err) == 0 && lock >= 0, "create the state directory");
	ok(state_create_dir(root, "c1", &dir2, &lock2, &err) < 0 && err_is(&err, "container with id exists: c1"),
	   "a second create of the same id");
	ok(!strcmp(status_of("c1", NULL), "error: container does not exist"),
	   "no state.json yet: the container does not exist");

	ok(record(dir, "c1", OCI_STATUS_CREATING, 0, false) == 0 && !strcmp(status_of("c1", &pid), "creating") &&
		   pid == 0,
	   "creating, no VMM yet");
	pid_t vmm = sleeper();
	ok(record(dir, "c1", OCI_STATUS_CREATED, vmm, false) == 0 && !strcmp(status_of("c1", &pid), "created") &&
		   pid == vmm,
	   "created with a live VMM: its pid");
	record(dir, "c1", OCI_STATUS_RUNNING, vmm, false);
	ok(!strcmp(status_of("c1", NULL), "running"), "running");
	record(dir, "c1", OCI_STATUS_RUNNING, vmm, true);
	ok(!strcmp(status_of("c1", NULL), "paused"), "paused");

	/* A zombie VMM is a stopped one. */
	kill(vmm, SIGKILL);
	usleep(100 * 1000);
	ok(!strcmp(status_of("c1", &pid), "stopped") && pid == 0, "the VMM died (zombie): stopped, pid 0");
	waitpid(vmm, NULL, 0);
	ok(!strcmp(status_of("c1", &pid), "stopped"), "the VMM reaped: stopped");

	/* Same pid, other start time: a recycled pid is not our VMM. */
	struct vmm_record other = { .pid = getpid(), .start_time = 1 };
	state_write_vmm(dir, &other, &err);
	ok(!strcmp(status_of("c1", NULL), "stopped"), "a recycled pid does not bring the container back");

	/* The guest's RAM, for update; pause rewrites the record it read. */
	struct vmm_record sized = { .pid = getpid(), .start_time = 1, .memory = 228ULL << 20 };
	struct ctr_state st;
	ok(state_write_vmm(dir, &sized, &err) == 0 && state_load(root, "c1", &st, &err) == 0 &&
		   st.vmm.memory == 228ULL << 20,
	   "vmm.json keeps the guest's RAM");
	if (!err)
		ctr_state_release(&st);
	novm_error_release(&err);

	close(lock);
	free(dir);
	free(dir2);
}

static void test_lock(void)
{
	novm_error_t err = NULL;
	char *dir = NULL;
	int lock = -1, other = -1;

	ok(state_lock(root, "nope", &other, &err) < 0 && err_is(&err, "container does not exist"),
	   "locking a container that does not exist");
	state_create_dir(root, "c2", &dir, &lock, &err);
	record(dir, "c2", OCI_STATUS_STOPPED, 0, false);

	/* A child waits for our lock; we delete the container meanwhile. */
	pid_t child = fork();
	if (child == 0) {
		novm_error_t e = NULL;
		int fd;
		/* flock belongs to the open file: our inherited copy would hold it. */
		close(lock);
		if (state_lock(root, "c2", &fd, &e) == 0)
			_exit(1);
		_exit(strcmp(e->msg, "container does not exist") ? 2 : 0);
	}
	usleep(200 * 1000);
	int status = -1;
	ok(waitpid(child, &status, WNOHANG) == 0, "a second locker waits");
	state_remove_dir(dir);
	close(lock);
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "deleted while it waited: \"container does not exist\" (status %d)", status);
	struct stat sb;
	ok(stat(dir, &sb) < 0 && errno == ENOENT, "and the waiter did not bring the directory back");

	state_create_dir(root, "c2", &dir, &lock, &err);
	close(lock);
	ok(state_lock(root, "c2", &other, &err) == 0, "an existing container's lock");
	close(other);
	free(dir);
}

static void test_list_and_exec(void)
{
	novm_error_t err = NULL;
	char **ids = NULL, path[512];
	size_t n = 0;
	pid_t *pids = NULL;
	char *dir = NULL;
	int lock;

	snprintf(path, sizeof(path), "%s/.hidden", root);
	mkdir(path, 0700);
	state_create_dir(root, "b-3", &dir, &lock, &err);
	close(lock);
	ok(state_list_ids(root, &ids, &n, &err) == 0 && n == 3 && !strcmp(ids[0], "b-3") &&
		   !strcmp(ids[1], "c1") && !strcmp(ids[2], "c2"),
	   "ids sorted, dot entries skipped (%zu)", n);
	state_free_ids(ids, n);
	ok(state_list_ids("/nonexistent/root", &ids, &n, &err) == 0 && n == 0, "a root never made lists nothing");

	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	ok(state_add_exec(dir, getpid(), &err) == 0, "record an exec proxy");
	/* Reaped, not just exited: a sleep was a race under load. */
	waitpid(dead, NULL, 0);
	ok(state_add_exec(dir, dead, &err) < 0, "a proxy already gone is not recorded");
	novm_error_release(&err);
	/* A stale record: the pid is there but not its start time. */
	snprintf(path, sizeof(path), "%s/exec-%d", dir, getppid());
	write_file_atomic(path, "1", 1, 0600, NULL);
	ok(state_exec_pids(dir, &pids, &n, &err) == 0 && n == 1 && pids[0] == getpid(),
	   "live proxies only (%zu)", n);
	free(pids);
	state_remove_exec(dir, getpid());
	ok(state_exec_pids(dir, &pids, &n, &err) == 0 && n == 0, "removed");
	free(pids);
	free(dir);
}

static void test_ids(void)
{
	novm_error_t err = NULL;

	ok(state_check_id("a-b_c.d+e", &err) == 0, "runc's id characters");
	ok(state_check_id("../x", &err) < 0 && err_is(&err, "invalid container id format: ../x") &&
		   state_check_id(".x", &err) < 0 && state_check_id("a/b", &err) < 0 &&
		   state_check_id("", &err) < 0,
	   "ids that would leave the root or hide");
	novm_error_release(&err);
}

int main(void)
{
	if (!mkdtemp(root))
		return 99;
	test_ids();
	test_create_and_load();
	test_lock();
	test_list_and_exec();
	remove_tree(root, NULL);
	return tap_done();
}
