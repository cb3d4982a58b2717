#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "oci/json.h"
#include "proc.h"
#include "util.h"

#define LOCK_NAME ".lock"
#define STATE_NAME "state.json"
#define VMM_NAME "vmm.json"
#define POD_NAME "pod.json"
#define EXEC_PREFIX "exec-"

int state_check_id(const char *id, novm_error_t *err)
{
	if (!id || !*id)
		return novm_error(err, 0, "container id cannot be empty");
	if (id[0] == '.' || strlen(id) > 1024)
		return novm_error(err, 0, "invalid container id format: %s", id);
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_+-.", *p)))
			return novm_error(err, 0, "invalid container id format: %s", id);
	return 0;
}

static int lock_fd_wait(int fd, const char *path, novm_error_t *err)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return novm_error(err, errno, "lock `%s`", path);
	return 0;
}

int state_create_dir(const char *root, const char *id, char **dir, int *lock_fd,
		     novm_error_t *err)
{
	cleanup_free char *path = NULL, *lock_path = NULL;
	cleanup_close int fd = -1;

	if (mkdir_p(root, 0711, err) < 0)
		return -1;
	if (asprintf(&path, "%s/%s", root, id) < 0 || asprintf(&lock_path, "%s/" LOCK_NAME, path) < 0)
		return novm_error(err, ENOMEM, "state directory");
	if (mkdir(path, 0711) < 0) {
		if (errno == EEXIST)
			return novm_error(err, 0, "container with id exists: %s", id);
		return novm_error(err, errno, "create state directory `%s`", path);
	}
	/* Only create makes the lock file: waiters open it without O_CREAT, so
	 * none can bring it back while delete empties the directory. */
	fd = open(lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || lock_fd_wait(fd, lock_path, err) < 0) {
		if (fd < 0)
			novm_error(err, errno, "create `%s`", lock_path);
		state_remove_dir(path);
		return -1;
	}
	*dir = steal_pointer(&path);
	*lock_fd = steal_fd(&fd);
	return 0;
}

int state_lock(const char *root, const char *id, int *lock_fd, novm_error_t *err)
{
	cleanup_free char *lock_path = NULL;
	cleanup_close int fd = -1;
	struct stat st;

	if (asprintf(&lock_path, "%s/%s/" LOCK_NAME, root, id) < 0)
		return novm_error(err, ENOMEM, "lock");
	fd = open(lock_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return novm_error(err, 0, "container does not exist");
		return novm_error(err, errno, "open `%s`", lock_path);
	}
	if (lock_fd_wait(fd, lock_path, err) < 0)
		return -1;
	/* Deleted while we waited: the file we hold is no longer linked. */
	if (fstat(fd, &st) < 0 || st.st_nlink == 0)
		return novm_error(err, 0, "container does not exist");
	*lock_fd = steal_fd(&fd);
	return 0;
}

void state_remove_dir(const char *dir)
{
	if (dir)
		remove_tree(dir, NULL);
}

int state_write(const char *dir, const struct oci_state *state, novm_error_t *err)
{
	cleanup_free char *json = NULL, *path = NULL;
	size_t len;

	if (oci_state_to_json(state, &json, &len, err) < 0)
		return -1;
	if (asprintf(&path, "%s/" STATE_NAME, dir) < 0)
		return novm_error(err, ENOMEM, "state");
	return write_file_atomic(path, json, len, 0600, err);
}

int state_write_vmm(const char *dir, const struct vmm_record *vmm, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new("  ");
	cleanup_free char *json = NULL, *path = NULL;
	size_t len;

	if (!gen)
		return novm_error(err, ENOMEM, VMM_NAME);
	json_gen_object_open(gen);
	json_gen_member_i64(gen, "pid", vmm->pid);
	json_gen_member_u64(gen, "startTime", vmm->start_time);
	if (vmm->cgroup)
		json_gen_member_string(gen, "cgroup", vmm->cgroup);
	if (vmm->memory)
		json_gen_member_u64(gen, "memory", vmm->memory);
	json_gen_member_bool(gen, "paused", vmm->paused);
	json_gen_object_close(gen);
	if (json_gen_finish(gen, VMM_NAME, &json, &len, err) < 0)
		return -1;
	if (asprintf(&path, "%s/" VMM_NAME, dir) < 0)
		return novm_error(err, ENOMEM, VMM_NAME);
	return write_file_atomic(path, json, len, 0600, err);
}

static int read_vmm(const char *dir, struct vmm_record *vmm, novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node root;
	size_t len;
	int pid = 0;

	memset(vmm, 0, sizeof(*vmm));
	if (asprintf(&path, "%s/" VMM_NAME, dir) < 0)
		return novm_error(err, ENOMEM, VMM_NAME);
	if (read_file(path, &text, &len, NULL) < 0)
		return 0;	/* not written yet: create has not started the VMM */
	if (json_doc_parse(path, text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &root);
	if (json_get_int(&root, "pid", &pid, err) < 0 ||
	    json_get_u64(&root, "startTime", &vmm->start_time, err) < 0 ||
	    json_get_string(&root, "cgroup", &vmm->cgroup, err) < 0 ||
	    json_get_u64(&root, "memory", &vmm->memory, err) < 0 ||
	    json_get_bool(&root, "paused", &vmm->paused, err) < 0)
		return -1;
	vmm->pid = pid > 0 ? pid : 0;
	return 0;
}

static const char *const pod_roles[] = {
	[POD_ROLE_NONE] = "none", [POD_ROLE_SANDBOX] = "sandbox", [POD_ROLE_CONTAINER] = "container",
};

int state_write_pod(const char *dir, const struct pod_record *pod, novm_error_t *err)
{
	cleanup_json_gen struct json_gen *gen = json_gen_new("  ");
	cleanup_free char *json = NULL, *path = NULL;
	size_t len;

	if (!gen)
		return novm_error(err, ENOMEM, POD_NAME);
	json_gen_object_open(gen);
	json_gen_member_string(gen, "role", pod_roles[pod->role]);
	if (pod->sandbox)
		json_gen_member_string(gen, "sandbox", pod->sandbox);
	if (pod->session)
		json_gen_member_u64(gen, "session", pod->session);
	json_gen_object_close(gen);
	if (json_gen_finish(gen, POD_NAME, &json, &len, err) < 0)
		return -1;
	if (asprintf(&path, "%s/" POD_NAME, dir) < 0)
		return novm_error(err, ENOMEM, POD_NAME);
	return write_file_atomic(path, json, len, 0600, err);
}

static int read_pod(const char *root, const char *dir, struct pod_record *pod, novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL, *role = NULL;
	cleanup_json_doc struct json_doc *doc = NULL;
	struct json_node node;
	size_t len;

	memset(pod, 0, sizeof(*pod));
	if (asprintf(&path, "%s/" POD_NAME, dir) < 0)
		return novm_error(err, ENOMEM, POD_NAME);
	if (read_file(path, &text, &len, NULL) < 0)
		return 0;	/* no pod */
	if (json_doc_parse(path, text, len, &doc, err) < 0)
		return -1;
	json_doc_root(doc, &node);
	if (json_get_string(&node, "role", &role, err) < 0 ||
	    json_get_string(&node, "sandbox", &pod->sandbox, err) < 0 ||
	    json_get_u32(&node, "session", &pod->session, err) < 0)
		return -1;
	if (role && !strcmp(role, pod_roles[POD_ROLE_SANDBOX]))
		pod->role = POD_ROLE_SANDBOX;
	else if (role && !strcmp(role, pod_roles[POD_ROLE_CONTAINER]) && pod->sandbox &&
		 state_check_id(pod->sandbox, NULL) == 0)
		pod->role = POD_ROLE_CONTAINER;
	else
		return novm_error(err, 0, "%s: not a pod record", path);
	if (pod->role == POD_ROLE_CONTAINER && asprintf(&pod->sandbox_dir, "%s/%s", root, pod->sandbox) < 0)
		return novm_error(err, ENOMEM, POD_NAME);
	return 0;
}

const char *state_live_status(enum oci_status recorded, bool has_vmm, bool vmm_alive, bool paused)
{
	switch (recorded) {
	case OCI_STATUS_CREATING:
		return has_vmm && !vmm_alive ? "stopped" : "creating";
	case OCI_STATUS_CREATED:
		return !vmm_alive ? "stopped" : paused ? "paused" : "created";
	case OCI_STATUS_RUNNING:
		return !vmm_alive ? "stopped" : paused ? "paused" : "running";
	case OCI_STATUS_STOPPED:
	default:
		return "stopped";
	}
}

int state_load(const char *root, const char *id, struct ctr_state *out, novm_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (state_check_id(id, err) < 0)
		return -1;
	if (asprintf(&path, "%s/%s/" STATE_NAME, root, id) < 0)
		return novm_error(err, ENOMEM, "state");
	if (!(out->id = strdup(id)) || !(out->dir = strndup(path, strlen(path) - strlen("/" STATE_NAME)))) {
		ctr_state_release(out);
		return novm_error(err, ENOMEM, "state");
	}
	if (read_file(path, &text, &len, NULL) < 0) {
		ctr_state_release(out);
		return novm_error(err, 0, "container does not exist");
	}
	if (oci_state_from_json(path, text, len, &out->oci, err) < 0 || read_vmm(out->dir, &out->vmm, err) < 0 ||
	    read_pod(root, out->dir, &out->pod, err) < 0) {
		ctr_state_release(out);
		return -1;
	}
	out->vmm_alive = out->vmm.pid && proc_alive(out->vmm.pid, out->vmm.start_time);
	out->status = state_live_status(out->oci->status, out->vmm.pid != 0, out->vmm_alive,
					out->vmm.paused);
	out->oci->pid = out->vmm_alive ? out->vmm.pid : 0;
	return 0;
}

void ctr_state_release(struct ctr_state *st)
{
	free(st->id);
	free(st->dir);
	oci_state_free(st->oci);
	free(st->vmm.cgroup);
	free(st->pod.sandbox);
	free(st->pod.sandbox_dir);
	memset(st, 0, sizeof(*st));
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list_ids(const char *root, char ***ids, size_t *n, novm_error_t *err)
{
	cleanup_closedir DIR *dir = opendir(root);
	char **list = NULL;
	size_t count = 0;
	struct dirent *de;

	*ids = NULL;
	*n = 0;
	if (!dir) {
		if (errno == ENOENT)
			return 0;	/* nothing was ever created under this root */
		return novm_error(err, errno, "open `%s`", root);
	}
	while ((de = readdir(dir))) {
		if (state_check_id(de->d_name, NULL) < 0)
			continue;
		char **grown = realloc(list, (count + 1) * sizeof(*list));
		if (!grown || !(grown[count] = strdup(de->d_name))) {
			state_free_ids(grown ? grown : list, count);
			return novm_error(err, ENOMEM, "list");
		}
		list = grown;
		count++;
	}
	if (count)
		qsort(list, count, sizeof(*list), compare_ids);
	*ids = list;
	*n = count;
	return 0;
}

void state_free_ids(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int state_add_exec(const char *dir, pid_t pid, novm_error_t *err)
{
	cleanup_free char *path = NULL;
	uint64_t start = 0;
	char buf[32];
	int len;

	if (!proc_start_time(pid, &start))
		return novm_error(err, 0, "exec process %d is gone", pid);
	if (asprintf(&path, "%s/" EXEC_PREFIX "%d", dir, pid) < 0)
		return novm_error(err, ENOMEM, "exec record");
	len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)start);
	return write_file_atomic(path, buf, len, 0600, err);
}

void state_remove_exec(const char *dir, pid_t pid)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/" EXEC_PREFIX "%d", dir, pid);
	unlink(path);
}

int state_exec_pids(const char *dir, pid_t **pids, size_t *n, novm_error_t *err)
{
	cleanup_closedir DIR *d = opendir(dir);
	cleanup_free pid_t *list = NULL;
	size_t count = 0;
	struct dirent *de;

	*pids = NULL;
	*n = 0;
	if (!d)
		return novm_error(err, errno, "open `%s`", dir);
	while ((de = readdir(d))) {
		cleanup_free char *path = NULL, *text = NULL;
		char *end;
		long pid;

		if (strncmp(de->d_name, EXEC_PREFIX, strlen(EXEC_PREFIX)))
			continue;
		pid = strtol(de->d_name + strlen(EXEC_PREFIX), &end, 10);
		if (*end || pid <= 0 || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (read_file(path, &text, NULL, NULL) < 0 ||
		    !proc_alive(pid, strtoull(text, NULL, 10)))
			continue;
		pid_t *grown = realloc(list, (count + 1) * sizeof(*list));
		if (!grown)
			return novm_error(err, ENOMEM, "exec records");
		list = grown;
		list[count++] = pid;
	}
	*pids = steal_pointer(&list);
	*n = count;
	return 0;
}

char *state_now_rfc3339(void)
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

struct oci_state state_for_spec(const struct oci_spec *spec, const char *id, char *created)
{
	return (struct oci_state){
		.oci_version = (char *)OCI_SPEC_VERSION,
		.id = (char *)id,
		.status = OCI_STATUS_CREATING,
		.bundle = spec->bundle,
		.annotations = spec->annotations,
		.n_annotations = spec->n_annotations,
		.rootfs = spec->root.path,
		.created = created,
		.owner = (char *)"",
	};
}
