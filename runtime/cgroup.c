#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
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

int cgroup_enter(const char *dir, novm_error_t *err)
{
	cleanup_free char *procs = NULL;
	cleanup_close int fd = -1;

	if (mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (asprintf(&procs, "%s/cgroup.procs", dir) < 0)
		return novm_error(err, ENOMEM, "cgroup");
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return novm_error(err, errno, "open `%s`", procs);
	/* "0" is the writing process itself. */
	if (write(fd, "0", 1) != 1)
		return novm_error(err, errno, "join cgroup `%s`", dir);
	return 0;
}

void cgroup_remove(const char *dir)
{
	/* A cgroup left behind (busy, or never made) is empty and harmless. */
	if (dir)
		rmdir(dir);
}
