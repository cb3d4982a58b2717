/* The initramfs builder: builds archives from temporary inputs and reads
 * them back with an independent newc parser (and with cpio(1) when it is
 * installed), then checks the cache of initramfs_default. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"
#include "tap.h"
#include "vmm/kstore/initramfs.h"

static char tmp_root[] = "/tmp/test-initramfs.XXXXXX";

static void skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_n, why);
}

/* ---- an independent newc reader -------------------------------------- */

#define MAX_ENTRIES 32

struct entry {
	char name[256];
	uint32_t ino, mode, uid, gid, nlink, mtime, size, rdev_major, rdev_minor;
	const unsigned char *data;
};

struct archive {
	unsigned char *buf;
	size_t len;
	struct entry entries[MAX_ENTRIES];
	size_t count;
	char problem[256];	/* why parsing failed */
};

static bool parse_hex8(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static bool zeros(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Walks every header up to the trailer; the trailer is not stored.
 * Fails on bad magic or hex, non-zero padding, overruns, or bytes after the
 * trailer's padding. */
static bool parse_archive(struct archive *a)
{
	size_t off = 0;

	for (;;) {
		uint32_t f[13], namesize;
		struct entry *e;
		size_t name_end, data_end;

		if (off + 110 > a->len || memcmp(a->buf + off, "070701", 6) != 0) {
			snprintf(a->problem, sizeof(a->problem), "no header at %zu", off);
			return false;
		}
		for (int i = 0; i < 13; i++)
			if (!parse_hex8(a->buf + off + 6 + 8 * i, &f[i])) {
				snprintf(a->problem, sizeof(a->problem), "bad hex at %zu", off);
				return false;
			}
		namesize = f[11];
		name_end = off + 110 + namesize;
		if (namesize == 0 || namesize > 255 || name_end > a->len ||
		    a->buf[name_end - 1] != '\0' ||
		    strlen((char *)a->buf + off + 110) != namesize - 1) {
			snprintf(a->problem, sizeof(a->problem), "bad name at %zu", off);
			return false;
		}
		if (f[12] != 0) {
			snprintf(a->problem, sizeof(a->problem), "check field not 0 at %zu", off);
			return false;
		}
		if (align4(name_end) > a->len || !zeros(a->buf + name_end, align4(name_end) - name_end)) {
			snprintf(a->problem, sizeof(a->problem), "bad name padding at %zu", off);
			return false;
		}
		if (strcmp((char *)a->buf + off + 110, "TRAILER!!!") == 0) {
			if (align4(name_end) != a->len || f[6] != 0) {
				snprintf(a->problem, sizeof(a->problem),
					 "trailer not last or has data (%zu of %zu)", name_end, a->len);
				return false;
			}
			return true;
		}
		if (a->count == MAX_ENTRIES) {
			snprintf(a->problem, sizeof(a->problem), "too many entries");
			return false;
		}
		e = &a->entries[a->count++];
		memcpy(e->name, a->buf + off + 110, namesize);
		e->ino = f[0];
		e->mode = f[1];
		e->uid = f[2];
		e->gid = f[3];
		e->nlink = f[4];
		e->mtime = f[5];
		e->size = f[6];
		e->rdev_major = f[9];
		e->rdev_minor = f[10];
		e->data = a->buf + align4(name_end);
		data_end = align4(name_end) + e->size;
		if (data_end > a->len || align4(data_end) > a->len ||
		    !zeros(a->buf + data_end, align4(data_end) - data_end)) {
			snprintf(a->problem, sizeof(a->problem), "bad data or padding for %s",
				 e->name);
			return false;
		}
		off = align4(data_end);
	}
}

static bool load_archive(const char *path, struct archive *a)
{
	novm_error_t err = NULL;
	char *buf;

	memset(a, 0, sizeof(*a));
	if (read_file(path, &buf, &a->len, &err) < 0) {
		snprintf(a->problem, sizeof(a->problem), "%s", err->msg);
		novm_error_release(&err);
		return false;
	}
	a->buf = (unsigned char *)buf;
	return parse_archive(a);
}

static const struct entry *find(const struct archive *a, const char *name)
{
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->entries[i].name, name) == 0)
			return &a->entries[i];
	return NULL;
}

static bool has_contents(const struct entry *e, const char *data, size_t len)
{
	return e && e->size == len && memcmp(e->data, data, len) == 0;
}

/* ---- fixtures -------------------------------------------------------- */

static char *path_in_tmp(const char *rel)
{
	char *p;
	if (asprintf(&p, "%s/%s", tmp_root, rel) < 0)
		abort();
	return p;
}

static void put_file(const char *rel, const char *data, size_t len)
{
	cleanup_free char *p = path_in_tmp(rel);
	novm_error_t err = NULL;

	if (write_file_atomic(p, data, len, 0644, &err) < 0) {
		novm_error_print(&err, "test-initramfs");
		exit(99);
	}
}

static void make_dir(const char *rel)
{
	cleanup_free char *p = path_in_tmp(rel);
	novm_error_t err = NULL;

	if (mkdir_p(p, 0755, &err) < 0) {
		novm_error_print(&err, "test-initramfs");
		exit(99);
	}
}

/* Sets a file's mtime `seconds` after now, as a later rebuild would. */
static void bump_mtime(const char *rel, int seconds)
{
	cleanup_free char *p = path_in_tmp(rel);
	struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { 0 } };

	clock_gettime(CLOCK_REALTIME, &times[1]);
	times[1].tv_sec += seconds;
	utimensat(AT_FDCWD, p, times, 0);
}

static size_t count_files_in(const char *rel)
{
	cleanup_free char *p = path_in_tmp(rel);
	cleanup_closedir DIR *d = opendir(p);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	return n;
}

static const char agent_data[] = "#!fake agent\n";	/* 13 bytes: data needs padding */
static const char mod_a[] = "AAAAA";
static const char mod_b[] = "BBBBBBBB";

/* ---- tests ----------------------------------------------------------- */

static void test_build_with_modules(void)
{
	cleanup_free char *agent = path_in_tmp("agent"), *mods = path_in_tmp("mods"),
			  *out = path_in_tmp("out/a.cpio");
	static const char *const want_names[] = {
		"dev", "proc", "sys", "lib", "lib/modules", "dev/console", "init",
		"lib/modules/a.ko", "lib/modules/b-c.ko", "lib/modules/order",
	};
	novm_error_t err = NULL;
	struct archive a;
	bool names_ok, dirs_ok = true, owners_ok = true, inos_ok = true;
	const struct entry *e;
	int r;

	r = initramfs_build(agent, mods, out, &err);
	ok(r == 0, "build with modules (%s)", err ? err->msg : "ok");
	novm_error_release(&err);

	ok(load_archive(out, &a), "archive parses: magic, hex, padding, trailer last%s%s",
	   a.problem[0] ? ": " : "", a.problem);
	ok(a.len % 4 == 0, "archive length %zu is a multiple of 4", a.len);
	names_ok = a.count == ARRAY_SIZE(want_names);
	for (size_t i = 0; names_ok && i < a.count; i++)
		names_ok = strcmp(a.entries[i].name, want_names[i]) == 0;
	ok(names_ok, "entries in order: dirs, console, init, modules, order (%zu entries)",
	   a.count);

	for (size_t i = 0; i < 5 && i < a.count; i++)
		dirs_ok &= a.entries[i].mode == (S_IFDIR | 0755) && a.entries[i].size == 0 &&
			   a.entries[i].nlink == 2;
	ok(dirs_ok, "directories are 040755, empty, nlink 2");

	e = find(&a, "dev/console");
	ok(e && e->mode == (S_IFCHR | 0600) && e->rdev_major == 5 && e->rdev_minor == 1 &&
		   e->size == 0,
	   "dev/console is char 5:1 mode 0600");

	e = find(&a, "init");
	ok(e && e->mode == (S_IFREG | 0755), "init is a regular file, mode 0755");
	ok(has_contents(e, agent_data, sizeof(agent_data) - 1),
	   "init holds the agent's 13 bytes");
	e = find(&a, "lib/modules/a.ko");
	ok(e && e->mode == (S_IFREG | 0644) && has_contents(e, mod_a, 5),
	   "a.ko: mode 0644, contents");
	e = find(&a, "lib/modules/b-c.ko");
	ok(has_contents(e, mod_b, 8), "b-c.ko: contents");
	e = find(&a, "lib/modules/order");
	ok(e && e->mode == (S_IFREG | 0644) && has_contents(e, "a.ko\nb-c.ko\n", 12),
	   "order is normalised: names only, one a line");

	for (size_t i = 0; i < a.count; i++) {
		owners_ok &= a.entries[i].uid == 0 && a.entries[i].gid == 0 &&
			     a.entries[i].mtime == 0;
		inos_ok &= a.entries[i].ino != 0;
		for (size_t j = 0; j < i; j++)
			inos_ok &= a.entries[i].ino != a.entries[j].ino;
	}
	ok(owners_ok, "owned by root, mtime 0 (reproducible)");
	ok(inos_ok, "inode numbers unique and non-zero");

	/* A rebuild from the same inputs gives the same bytes. */
	{
		cleanup_free char *out2 = path_in_tmp("out/a2.cpio");
		struct archive b;
		bool same;

		initramfs_build(agent, mods, out2, &err);
		novm_error_release(&err);
		same = load_archive(out2, &b) && b.len == a.len && memcmp(a.buf, b.buf, a.len) == 0;
		ok(same, "same inputs, same bytes");
		free(b.buf);
		unlink(out2);
	}

	if (access("/usr/bin/cpio", X_OK) == 0 || access("/bin/cpio", X_OK) == 0) {
		cleanup_free char *cmd = NULL;
		char listing[1024] = "", want[1024] = "";
		size_t used = 0;
		FILE *p;

		for (size_t i = 0; i < ARRAY_SIZE(want_names); i++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s\n",
				 want_names[i]);
		if (asprintf(&cmd, "cpio -t --quiet < '%s' 2>&1", out) < 0)
			abort();
		p = popen(cmd, "r");
		if (p) {
			used = fread(listing, 1, sizeof(listing) - 1, p);
			listing[used] = '\0';
			r = pclose(p);
		}
		ok(p && r == 0 && strcmp(listing, want) == 0, "cpio -t lists the same names");
		if (strcmp(listing, want) != 0)
			printf("# cpio -t said:\n# %s\n", listing);
	} else {
		skip("cpio not installed");
	}
	free(a.buf);
}

static void test_build_without_modules(void)
{
	cleanup_free char *agent = path_in_tmp("agent"), *out = path_in_tmp("out/b.cpio");
	novm_error_t err = NULL;
	struct archive a;
	int r = initramfs_build(agent, NULL, out, &err);

	ok(r == 0, "build without modules (%s)", err ? err->msg : "ok");
	novm_error_release(&err);
	ok(load_archive(out, &a) && a.count == 8 && find(&a, "init") &&
		   has_contents(find(&a, "lib/modules/order"), "", 0) &&
		   strcmp(a.entries[7].name, "lib/modules/order") == 0,
	   "no modules: only the skeleton, init and an empty order");
	free(a.buf);
}

/* Builds must fail cleanly: a message, no output, no temporary left. */
static void expect_failure(const char *what, const char *agent_rel, const char *mods_rel,
			   const char *msg_part)
{
	cleanup_free char *agent = path_in_tmp(agent_rel), *out = path_in_tmp("fail/x.cpio");
	cleanup_free char *mods = mods_rel ? path_in_tmp(mods_rel) : NULL;
	novm_error_t err = NULL;
	int r;

	if (agent_rel[0] == '/') {
		free(agent);
		agent = strdup(agent_rel);
	}
	put_file("fail/x.cpio", "previous", 8);
	r = initramfs_build(agent, mods, out, &err);
	ok(r < 0 && err && strstr(err->msg, msg_part), "%s fails: %s", what,
	   err ? err->msg : "(no error)");
	novm_error_release(&err);
	{
		cleanup_free char *text = NULL;
		read_file(out, &text, NULL, &err);
		novm_error_release(&err);
		ok(text && strcmp(text, "previous") == 0 && count_files_in("fail") == 1,
		   "%s: previous output untouched, no temporary left", what);
	}
}

static void test_build_failures(void)
{
	make_dir("mods-missing");
	put_file("mods-missing/order", "a.ko\nnot-there.ko\n", 18);
	put_file("mods-missing/a.ko", mod_a, 5);
	make_dir("mods-bad");
	put_file("mods-bad/order", "../agent\n", 9);
	make_dir("mods-noorder");
	make_dir("fail");

	expect_failure("listed module missing", "agent", "mods-missing", "not-there.ko");
	expect_failure("order with a path", "agent", "mods-bad", "not a plain file name");
	expect_failure("order file missing", "agent", "mods-noorder", "order");
	expect_failure("agent missing", "no-agent", NULL, "no-agent");
	/* This test program is a dynamically linked ELF. */
	expect_failure("dynamic agent", "/proc/self/exe", NULL, "dynamically linked");
}

static void test_real_agent(void)
{
#ifdef NOVM_BUILDDIR
	const char *agent = NOVM_BUILDDIR "/agent/novm-init";
	cleanup_free char *out = path_in_tmp("out/real.cpio");
	novm_error_t err = NULL;

	if (access(agent, R_OK) != 0) {
		skip("agent/novm-init not built");
		return;
	}
	ok(initramfs_build(agent, NULL, out, &err) == 0,
	   "the built static agent is accepted (%s)", err ? err->msg : "ok");
	novm_error_release(&err);
#else
	skip("NOVM_BUILDDIR not defined");
#endif
}

static void test_agent_path(void)
{
	const char *p;

	setenv("NOVM_AGENT", "/some/where/agent", 1);
	ok(strcmp(initramfs_agent_path(), "/some/where/agent") == 0, "$NOVM_AGENT wins");
	unsetenv("NOVM_AGENT");
	p = initramfs_agent_path();
#ifdef NOVM_BUILDDIR
	if (access(NOVM_BUILDDIR "/agent/novm-init", X_OK) == 0)
		ok(strcmp(p, NOVM_BUILDDIR "/agent/novm-init") == 0,
		   "run from the build tree: its agent (%s)", p);
	else
#endif
		ok(strstr(p, "/novm-init") != NULL, "otherwise the installed one (%s)", p);
}

static bool starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_default_cache(void)
{
	cleanup_free char *agent = path_in_tmp("agent"), *mods = path_in_tmp("store/k1/modules");
	cleanup_free char *entry = path_in_tmp("store/k1/initramfs-");
	cleanup_free char *cache = path_in_tmp("cache/initramfs-"), *cache_dir = path_in_tmp("cache");
	cleanup_free char *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL, *p5 = NULL, *p6 = NULL;
	novm_error_t err = NULL;
	struct stat st1, st2;
	struct archive a;

	setenv("NOVM_AGENT", agent, 1);
	setenv("NOVM_CACHE_DIR", cache_dir, 1);
	make_dir("store/k1/modules");
	put_file("store/k1/modules/order", "a.ko\n", 5);
	put_file("store/k1/modules/a.ko", mod_a, 5);

	ok(initramfs_default(mods, &p1, &err) == 0 && starts_with(p1, entry),
	   "cached in the store entry (%s)", p1 ? p1 : err->msg);
	novm_error_release(&err);
	ok(p1 && load_archive(p1, &a) && has_contents(find(&a, "lib/modules/a.ko"), mod_a, 5) &&
		   has_contents(find(&a, "init"), agent_data, sizeof(agent_data) - 1),
	   "cached initramfs holds the agent and the modules");
	free(a.buf);

	stat(p1, &st1);
	ok(initramfs_default(mods, &p2, &err) == 0 && p2 && strcmp(p1, p2) == 0 &&
		   stat(p2, &st2) == 0 && st1.st_ino == st2.st_ino &&
		   st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec,
	   "unchanged inputs: the same file, not rebuilt");
	novm_error_release(&err);

	put_file("agent", "#!new agent!\n", 13);
	bump_mtime("agent", 5);
	ok(initramfs_default(mods, &p3, &err) == 0 && p3 && strcmp(p3, p1) != 0 &&
		   access(p1, F_OK) != 0,
	   "newer agent: rebuilt, stale one removed");
	novm_error_release(&err);
	ok(p3 && load_archive(p3, &a) && has_contents(find(&a, "init"), "#!new agent!\n", 13),
	   "rebuilt initramfs holds the new agent");
	free(a.buf);

	bump_mtime("store/k1/modules/order", 10);
	ok(initramfs_default(mods, &p4, &err) == 0 && p4 && strcmp(p4, p3) != 0 &&
		   count_files_in("store/k1") == 2,
	   "newer order file: rebuilt, one initramfs left in the entry");
	novm_error_release(&err);

	ok(initramfs_default(NULL, &p5, &err) == 0 && starts_with(p5, cache),
	   "no modules: cached in $NOVM_CACHE_DIR (%s)", p5 ? p5 : err->msg);
	novm_error_release(&err);

	make_dir("loose");
	put_file("loose/order", "", 0);
	{
		cleanup_free char *loose = path_in_tmp("loose");
		ok(initramfs_default(loose, &p6, &err) == 0 && starts_with(p6, cache) &&
			   strcmp(p5, p6) != 0 && count_files_in("loose") == 1,
		   "a modules dir outside a store entry is not written to");
		novm_error_release(&err);
	}

	setenv("NOVM_AGENT", "/nonexistent/novm-init", 1);
	{
		cleanup_free char *p = NULL;
		ok(initramfs_default(mods, &p, &err) < 0 && err &&
			   strstr(err->msg, "NOVM_AGENT"),
		   "missing agent: error says how to fix it (%s)", err ? err->msg : "");
		novm_error_release(&err);
	}
	unsetenv("NOVM_AGENT");
	unsetenv("NOVM_CACHE_DIR");
}

/* Run as an unprivileged user in a child: the store entry and the system
 * cache are root's, so the cache must fall back to $TMPDIR/novm-<uid>, and
 * a directory of that name that the user does not own privately must be
 * refused (another user could have planted an init in it). */
static int fallback_child(const char *mods, const char *tmpdir, bool expect_refusal)
{
	cleanup_free char *want = NULL, *path = NULL;
	novm_error_t err = NULL;
	int r;

	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 3;
	setenv("TMPDIR", tmpdir, 1);
	if (asprintf(&want, "%s/novm-65534/initramfs-", tmpdir) < 0)
		return 3;
	r = initramfs_default(mods, &path, &err);
	if (expect_refusal) {
		if (r == 0 || !strstr(err->msg, "not a private directory")) {
			printf("# got %s\n", path ? path : err->msg);
			return 1;
		}
		return 0;
	}
	if (r < 0) {
		printf("# %s\n", err->msg);
		return 1;
	}
	return starts_with(path, want) ? 0 : 2;
}

static int run_as_nobody(const char *mods, const char *tmpdir, bool expect_refusal)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(fallback_child(mods, tmpdir, expect_refusal));
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_unprivileged_fallback(void)
{
	cleanup_free char *agent = path_in_tmp("agent"), *mods = path_in_tmp("store/k2/modules");
	cleanup_free char *cache = path_in_tmp("rootcache"), *tmpdir = path_in_tmp("tmpdir");
	cleanup_free char *planted = path_in_tmp("tmpdir2/novm-65534");
	cleanup_free char *tmpdir2 = path_in_tmp("tmpdir2");

	if (geteuid() != 0) {
		skip("fallback to $TMPDIR needs root to switch users");
		skip("fallback to $TMPDIR needs root to switch users");
		return;
	}
	setenv("NOVM_AGENT", agent, 1);
	setenv("NOVM_CACHE_DIR", cache, 1);
	make_dir("store/k2/modules");
	make_dir("rootcache");
	put_file("store/k2/modules/order", "", 0);
	make_dir("tmpdir");
	make_dir("tmpdir2/novm-65534");
	chmod(tmp_root, 0755);
	chmod(tmpdir, 01777);
	chmod(tmpdir2, 01777);
	chmod(planted, 0777);

	ok(run_as_nobody(mods, tmpdir, false) == 0,
	   "unwritable store entry and system cache: falls back to $TMPDIR/novm-<uid>");
	ok(run_as_nobody(mods, tmpdir2, true) == 0,
	   "a $TMPDIR/novm-<uid> the user does not own is refused");
	chmod(tmp_root, 0700);
	unsetenv("NOVM_AGENT");
	unsetenv("NOVM_CACHE_DIR");
}

int main(void)
{
	novm_error_t err = NULL;

	if (!mkdtemp(tmp_root)) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 0;
	}
	put_file("agent", agent_data, sizeof(agent_data) - 1);
	make_dir("mods");
	make_dir("out");
	put_file("mods/order", "a.ko\n\n# comment\n b-c.ko \n", 25);
	put_file("mods/a.ko", mod_a, 5);
	put_file("mods/b-c.ko", mod_b, 8);

	test_build_with_modules();
	test_build_without_modules();
	test_build_failures();
	test_real_agent();
	test_agent_path();
	test_default_cache();
	test_unprivileged_fallback();

	remove_tree(tmp_root, &err);
	novm_error_release(&err);
	return tap_done();
}
