#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "util.h"

/* "a-b-c.slice" -> "a.slice/a-b.slice/a-b-c.slice"; "-.slice" (the root
 * slice) -> "". */
static int expand_slice(FILE *out, const char *slice, size_t len, novm_error_t *err)
{
	const size_t suffix = strlen(".slice");

	if (len < suffix || memcmp(slice + len - suffix, ".slice", suffix))
		return novm_error(err, 0, "invalid systemd slice \"%.*s\": must end in .slice", (int)len,
				  slice);
	if (len == strlen("-.slice") && !memcmp(slice, "-.slice", len))
		return 0;
	size_t base = len - suffix;
	if (!base || memchr(slice, '/', len) || slice[0] == '-' || slice[base - 1] == '-')
		return novm_error(err, 0, "invalid systemd slice \"%.*s\"", (int)len, slice);
	for (size_t i = 0; i < base; i++) {
		if (slice[i] != '-')
			continue;
		if (slice[i + 1] == '-')
			return novm_error(err, 0, "invalid systemd slice \"%.*s\"", (int)len, slice);
		fprintf(out, "/%.*s.slice", (int)i, slice);
	}
	fprintf(out, "/%.*s", (int)len, slice);
	return 0;
}

static int resolve_systemd(FILE *out, const char *path, novm_error_t *err)
{
	const char *c1 = strchr(path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c1 || !c2 || strchr(c2 + 1, ':'))
		return novm_error(err, 0,
				  "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got \"%s\" instead",
				  path);
	const char *slice = path, *prefix = c1 + 1, *name = c2 + 1;
	size_t slice_len = c1 - path;
	if (!slice_len) {
		slice = "system.slice";
		slice_len = strlen(slice);
	}
	if (expand_slice(out, slice, slice_len, err) < 0)
		return -1;
	if (!*name || strchr(name, '/') || memchr(prefix, '/', c2 - prefix))
		return novm_error(err, 0, "invalid systemd cgroupsPath \"%s\"", path);
	/* A name that is itself a slice is used as is, like runc. */
	if (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, ".slice"))
		fprintf(out, "/%s", name);
	else if (c2 == prefix)
		fprintf(out, "/%s.scope", name);
	else
		fprintf(out, "/%.*s-%s.scope", (int)(c2 - prefix), prefix, name);
	return 0;
}

static int resolve_plain(FILE *out, const char *path, novm_error_t *err)
{
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");
		if ((len == 2 && !strncmp(p, "..", 2)))
			return novm_error(err, 0, "invalid cgroupsPath \"%s\": \"..\" is not allowed", path);
		if (len && !(len == 1 && *p == '.'))
			fprintf(out, "/%.*s", (int)len, p);
		p += len;
		while (*p == '/')
			p++;
	}
	return 0;
}

int cgroup_resolve(const char *root, const char *cgroups_path, bool systemd, char **dir,
		   novm_error_t *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int ret;

	*dir = NULL;
	if (!cgroups_path || !*cgroups_path)
		return 0;
	out = open_memstream(&buf, &len);
	if (!out)
		return novm_error(err, ENOMEM, "cgroup path");
	fputs(root, out);
	ret = systemd ? resolve_systemd(out, cgroups_path, err) : resolve_plain(out, cgroups_path, err);
	fclose(out);
	if (ret < 0 || !buf) {
		free(buf);
		return ret < 0 ? -1 : novm_error(err, ENOMEM, "cgroup path");
	}
	*dir = buf;
	return 0;
}

static bool any_limit(const struct cgroup_limits *l)
{
	for (size_t i = 0; i < CGROUP_LIMIT_FILES; i++)
		if (*cgroup_limit_value(l, i))
			return true;
	return false;
}

static int write_string(const char *path, const char *value)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0)
		return -1;
	return write(fd, value, len) == (ssize_t)len ? 0 : -1;
}

/* Enables in dir (made by us) the controllers l needs, for its children. */
static void enable_controllers(const char *dir, const struct cgroup_limits *l)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/cgroup.subtree_control", dir) < 0)
		return;
	for (size_t i = 0; i < CGROUP_LIMIT_FILES; i++) {
		char word[16];
		if (!*cgroup_limit_value(l, i))
			continue;
		snprintf(word, sizeof(word), "+%s", cgroup_limit_files[i].controller);
		/* One not delegated to dir is a warning when its file is missing. */
		if (write_string(path, word) < 0)
			log_msg(LOG_LEVEL_DEBUG, "enable %s in `%s`: %s", word + 1, path, strerror(errno));
	}
}

int cgroup_prepare(const char *root, const char *dir, const struct cgroup_limits *l,
		   const char *id, novm_error_t *err)
{
	size_t root_len = strlen(root);
	cleanup_free char *path = strdup(dir);
	bool parent_made = false;

	if (!path)
		return novm_error(err, ENOMEM, "cgroup");
	if (strncmp(path, root, root_len) || path[root_len] != '/')
		return novm_error(err, 0, "cgroup `%s` is not under `%s`", dir, root);
	for (char *slash = path + root_len; slash && *slash;) {
		char *next = strchr(slash + 1, '/');
		bool made;

		if (parent_made) {
			*slash = '\0';
			enable_controllers(path, l);
			*slash = '/';
		}
		if (next)
			*next = '\0';
		made = mkdir(path, 0755) == 0;
		if (!made && errno != EEXIST) {
			/* As before limits: the VM runs, outside its cgroup. */
			log_msg(any_limit(l) ? LOG_LEVEL_WARNING : LOG_LEVEL_DEBUG,
				"container %s: cgroup `%s` cannot be made (%s): no host limits apply", id,
				path, strerror(errno));
			return 0;
		}
		if (next)
			*next = '/';
		parent_made = made;
		slash = next;
	}
	return cgroup_write_limits(dir, l, id, err);
}

int cgroup_write_limits(const char *dir, const struct cgroup_limits *l, const char *id,
			novm_error_t *err)
{
	for (size_t i = 0; i < CGROUP_LIMIT_FILES; i++) {
		cleanup_free char *path = NULL;
		const char *value = cgroup_limit_value(l, i);

		if (!*value)
			continue;
		if (asprintf(&path, "%s/%s", dir, cgroup_limit_files[i].file) < 0)
			return novm_error(err, ENOMEM, "cgroup");
		if (write_string(path, value) == 0) {
			log_msg(LOG_LEVEL_DEBUG, "container %s: %s = %s", id, path, value);
			continue;
		}
		/* The file is there only when the parent's subtree_control
		 * enables its controller. */
		if (errno == ENOENT) {
			log_msg(LOG_LEVEL_WARNING,
				"container %s: %s not set to \"%s\": the %s controller is not enabled in the cgroup.subtree_control of `%s`'s parent",
				id, cgroup_limit_files[i].file, value, cgroup_limit_files[i].controller, dir);
			continue;
		}
		return novm_error(err, errno, "failed to write \"%s\": write %s", value, path);
	}
	return 0;
}

int cgroup_enter(const char *dir, novm_error_t *err)
{
	cleanup_free char *procs = NULL;

	if (mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (asprintf(&procs, "%s/cgroup.procs", dir) < 0)
		return novm_error(err, ENOMEM, "cgroup");
	/* "0" is the writing process itself. */
	if (write_string(procs, "0") < 0)
		return novm_error(err, errno, "join cgroup `%s` (write %s)", dir, procs);
	return 0;
}

void cgroup_remove(const char *dir)
{
	/* A VMM reported gone may still have threads leaving its cgroup
	 * (rmdir: EBUSY), so wait a little, as runc does.  One left behind
	 * (busy, or never made) is harmless. */
	for (int i = 0; dir && i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
}
