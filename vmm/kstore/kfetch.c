#include "kfetch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

extern char **environ;

#define METAPACKAGE "linux-image-amd64"
#define PACKAGE_PREFIX "linux-image-"
#define RELEASE_SUFFIX "-amd64"
#define MAX_CAPTURE (1 << 20)

enum child_stdout { STDOUT_CAPTURE, STDOUT_TO_STDERR };

/* The environment with LC_ALL=C, so apt's output is not translated. */
static char **c_locale_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) && strncmp(environ[i], "LANGUAGE=", 9))
			env[j++] = environ[i];
	env[j] = "LC_ALL=C";
	return env;
}

static int wait_child(pid_t pid, const char *name, novm_error_t *err)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return novm_error(err, errno, "wait for `%s`", name);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return novm_error(err, 0, "`%s` failed (exit status %d)", name, WEXITSTATUS(status));
	return novm_error(err, 0, "`%s` was killed by signal %d", name, WTERMSIG(status));
}

static int read_all(int fd, char **out, novm_error_t *err)
{
	cleanup_free char *buf = malloc(MAX_CAPTURE + 1);
	size_t len = 0;

	if (!buf)
		return novm_error(err, ENOMEM, "read command output");
	for (;;) {
		char discard[4096];
		/* Past the limit keep draining, or the child would block on a full pipe. */
		bool full = len == MAX_CAPTURE;
		ssize_t n = full ? read(fd, discard, sizeof(discard)) : read(fd, buf + len, MAX_CAPTURE - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return novm_error(err, errno, "read command output");
		if (n == 0)
			break;
		if (!full)
			len += n;
	}
	buf[len] = '\0';
	*out = steal_pointer(&buf);
	return 0;
}

/* Runs argv (found on $PATH) with stdin from /dev/null; no shell. */
static int run(char *const argv[], const char *cwd, enum child_stdout mode, char **out,
	       novm_error_t *err)
{
	cleanup_close int rd = -1, wr = -1;
	cleanup_free char **env = c_locale_env();
	cleanup_free char *captured = NULL;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	if (!env)
		return novm_error(err, ENOMEM, "run `%s`", argv[0]);
	if (mode == STDOUT_CAPTURE) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return novm_error(err, errno, "run `%s`", argv[0]);
		rd = p[0];
		wr = p[1];
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, mode == STDOUT_CAPTURE ? wr : STDERR_FILENO, STDOUT_FILENO);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return novm_error(err, r, "run `%s`", argv[0]);
	if (mode == STDOUT_CAPTURE) {
		close(steal_fd(&wr));
		if (read_all(rd, &captured, err) < 0) {
			wait_child(pid, argv[0], NULL);
			return -1;
		}
	}
	if (wait_child(pid, argv[0], err) < 0)
		return -1;
	if (out)
		*out = steal_pointer(&captured);
	return 0;
}

bool kfetch_valid_release(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".+-_~", *s))
			return false;
	return true;
}

int kfetch_latest_release(char **release, novm_error_t *err)
{
	char *argv[] = { "apt-cache", "depends", METAPACKAGE, NULL };
	cleanup_free char *text = NULL;

	if (run(argv, NULL, STDOUT_CAPTURE, &text, err) < 0)
		return novm_error_wrap(err, "cannot find Debian's kernel package " METAPACKAGE
					    " (is this Debian, and has `apt-get update` run?)");
	/* "  Depends: linux-image-6.1.0-56-amd64" */
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t|");
		if (strncmp(line, "Depends:", 8))
			continue;
		char *pkg = line + 8 + strspn(line + 8, " \t<");
		pkg[strcspn(pkg, " \t>")] = '\0';
		size_t n = strlen(pkg);
		if (strncmp(pkg, PACKAGE_PREFIX, strlen(PACKAGE_PREFIX)) || strcmp(pkg, METAPACKAGE) == 0 ||
		    n < strlen(RELEASE_SUFFIX) || strcmp(pkg + n - strlen(RELEASE_SUFFIX), RELEASE_SUFFIX))
			continue;
		const char *r = pkg + strlen(PACKAGE_PREFIX);
		if (!kfetch_valid_release(r))
			continue;
		*release = strdup(r);
		return *release ? 0 : novm_error(err, ENOMEM, "kernel release");
	}
	return novm_error(err, 0, METAPACKAGE " depends on no linux-image-<release>" RELEASE_SUFFIX
				  " package (see `apt-cache depends " METAPACKAGE "`)");
}

/* apt-get download runs as the unprivileged _apt user when started by root;
 * give it the download directory so it needs no unsandboxed fallback. */
static void hand_to_apt(const char *dir)
{
	struct passwd *pw = getuid() == 0 ? getpwnam("_apt") : NULL;
	if (pw && chown(dir, pw->pw_uid, pw->pw_gid) < 0)
		return;	/* apt falls back to downloading as root, with a warning */
}

/* The one .deb apt-get put in `dir`. */
static int find_deb(const char *dir, const char *package, char **out, novm_error_t *err)
{
	cleanup_closedir DIR *d = opendir(dir);
	size_t plen = strlen(package);
	struct dirent *de;

	if (!d)
		return novm_error(err, errno, "open `%s`", dir);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n > plen + 4 && !strncmp(de->d_name, package, plen) && de->d_name[plen] == '_' &&
		    !strcmp(de->d_name + n - 4, ".deb"))
			return asprintf(out, "%s/%s", dir, de->d_name) < 0 ? novm_error(err, ENOMEM, "fetch") : 0;
	}
	return novm_error(err, 0, "`apt-get download %s` left no .deb in `%s`", package, dir);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int unpack(const char *scratch, const char *release, const char *deb, struct kfetch_result *out,
		  novm_error_t *err)
{
	cleanup_free char *root = NULL, *bzimage = NULL, *lib = NULL, *usrlib = NULL;
	struct stat st;

	if (asprintf(&root, "%s/root", scratch) < 0 ||
	    asprintf(&bzimage, "%s/boot/vmlinuz-%s", root, release) < 0 ||
	    asprintf(&lib, "%s/lib/modules/%s", root, release) < 0 ||
	    asprintf(&usrlib, "%s/usr/lib/modules/%s", root, release) < 0)
		return novm_error(err, ENOMEM, "fetch");
	char *argv[] = { "dpkg-deb", "-x", (char *)deb, root, NULL };
	if (run(argv, NULL, STDOUT_TO_STDERR, NULL, err) < 0)
		return -1;
	if (stat(bzimage, &st) < 0)
		return novm_error(err, errno, "the package has no kernel `boot/vmlinuz-%s`", release);
	out->bzimage = steal_pointer(&bzimage);
	/* Merged-/usr releases ship modules under usr/lib. */
	if (is_dir(lib))
		out->modules_dir = steal_pointer(&lib);
	else if (is_dir(usrlib))
		out->modules_dir = steal_pointer(&usrlib);
	return 0;
}

int kfetch_download(const char *release, struct kfetch_result *out, novm_error_t *err)
{
	cleanup_free char *package = NULL, *scratch = NULL, *download = NULL, *deb = NULL;
	const char *tmp = getenv("TMPDIR");

	*out = (struct kfetch_result){ 0 };
	if (!kfetch_valid_release(release))
		return novm_error(err, 0, "invalid kernel release `%s`", release);
	if (asprintf(&package, PACKAGE_PREFIX "%s", release) < 0 ||
	    asprintf(&scratch, "%s/novm-fetch.XXXXXX", tmp && *tmp ? tmp : "/var/tmp") < 0)
		return novm_error(err, ENOMEM, "fetch");
	if (!mkdtemp(scratch))
		return novm_error(err, errno, "create a scratch directory `%s`", scratch);
	out->scratch_dir = steal_pointer(&scratch);
	if (chmod(out->scratch_dir, 0755) < 0 || asprintf(&download, "%s/download", out->scratch_dir) < 0 ||
	    mkdir(download, 0755) < 0) {
		int e = errno;
		kfetch_result_release(out);
		return novm_error(err, e, "create a scratch directory");
	}
	hand_to_apt(download);
	char *argv[] = { "apt-get", "download", package, NULL };
	if (run(argv, download, STDOUT_TO_STDERR, NULL, err) < 0 ||
	    find_deb(download, package, &deb, err) < 0 ||
	    unpack(out->scratch_dir, release, deb, out, err) < 0) {
		kfetch_result_release(out);
		return novm_error_wrap(err, "fetch %s", package);
	}
	return 0;
}

void kfetch_result_release(struct kfetch_result *res)
{
	if (res->scratch_dir)
		remove_tree(res->scratch_dir, NULL);
	free(res->scratch_dir);
	free(res->bzimage);
	free(res->modules_dir);
	*res = (struct kfetch_result){ 0 };
}
