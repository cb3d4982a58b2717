/* The FUSE server's graft root (pods): a root that shows only the trees
 * grafted on it, which the guest then uses as any share; grafts that go
 * while the guest still holds them; names, the cap, threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>

#include "fuse-client.h"

static char base[PATH_MAX];

static int open_host(const char *rel, int flags)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return open(p, flags | O_CLOEXEC);
}

static void host_put(const char *rel, const char *data)
{
	cleanup_close int fd = open_host(rel, O_WRONLY | O_CREAT | O_TRUNC);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		printf("# cannot write %s\n", rel);
}

static bool host_exists(const char *rel)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return access(p, F_OK) == 0;
}

static int graft(const char *name, int fd)
{
	novm_error_t err = NULL;
	int r = fuse_server_graft(S, name, fd, &err);

	if (r < 0)
		printf("# graft `%.40s`: %s\n", name, err ? err->msg : "?");
	novm_error_release(&err);
	return r;
}

static void list_root(bool plus, char *names, size_t cap)
{
	uint64_t fh = 0;
	size_t got = 0;

	names[0] = '\0';
	if (t_opendir(FUSE_ROOT_ID, &fh) < 0)
		return;
	if (t_read_op(plus ? FUSE_READDIRPLUS : FUSE_READDIR, FUSE_ROOT_ID, fh, 0, 65536, &got) == 0)
		listing_names(tr_body(T), got, plus, names, cap);
	t_release_op(FUSE_RELEASEDIR, FUSE_ROOT_ID, fh);
}

/* Reads a file node through OPEN/READ into buf. */
static int read_node(uint64_t nodeid, char *buf, size_t cap)
{
	uint64_t fh = 0;
	size_t got = 0;
	int r = t_open(nodeid, O_RDONLY, &fh);

	buf[0] = '\0';
	if (r < 0)
		return r;
	r = t_read(nodeid, fh, 0, (uint32_t)cap - 1, &got);
	if (r == 0) {
		memcpy(buf, tr_body(T), got);
		buf[got] = '\0';
	}
	t_release(nodeid, fh);
	return r;
}

static void test_empty_root(void)
{
	struct fuse_attr a;
	struct fuse_entry_out e;
	char names[256];

	ok(t_getattr(FUSE_ROOT_ID, &a) == 0 && S_ISDIR(a.mode) && (a.mode & 0777) == 0755 &&
		   a.nlink == 2,
	   "the graft root is a 0755 directory, a live one (mode %o, nlink %u)", a.mode, a.nlink);
	ok(t_lookup(FUSE_ROOT_ID, "share", &e) == -ENOENT, "nothing is found in an empty root");
	list_root(false, names, sizeof(names));
	ok(!strcmp(names, ". .."), "an empty root lists . and .. (%s)", names);
}

static void test_grafts(void)
{
	struct fuse_setattr_in chmod_in = { .valid = FATTR_MODE, .mode = 0777 };
	struct fuse_entry_out dir, file, e;
	char names[512], buf[64];
	uint64_t fh = 0;
	uint32_t written = 0;

	mkdir(strcat(strcpy(buf, base), "/rootfs"), 0755);
	host_put("rootfs/hello", "hello from the rootfs\n");
	host_put("hosts", "127.0.0.1 pod\n");
	host_put("secret", "next to the grafts\n");

	ok(graft("ctr1-rootfs", open_host("rootfs", O_PATH | O_DIRECTORY)) == 0, "graft a directory");
	ok(graft("ctr1-hosts", open_host("hosts", O_RDWR)) == 0, "graft a regular file");

	ok(t_lookup(FUSE_ROOT_ID, "ctr1-rootfs", &dir) == 0 && S_ISDIR(dir.attr.mode),
	   "LOOKUP finds the directory graft");
	ok(t_lookup(FUSE_ROOT_ID, "ctr1-hosts", &file) == 0 && S_ISREG(file.attr.mode),
	   "LOOKUP finds the file graft");
	ok(t_lookup(FUSE_ROOT_ID, "secret", &e) == -ENOENT, "the host's names beside it are not");
	ok(t_lookup(FUSE_ROOT_ID, "rootfs", &e) == -ENOENT, "nor the graft's host name");
	ok(t_lookup(dir.nodeid, "..", &e) == -EINVAL, "\"..\" is never looked up on the host");

	ok(t_lookup(dir.nodeid, "hello", &e) == 0 && read_node(e.nodeid, buf, sizeof(buf)) == 0 &&
		   !strcmp(buf, "hello from the rootfs\n"),
	   "a file in the directory graft reads through it");
	ok(read_node(file.nodeid, buf, sizeof(buf)) == 0 && !strcmp(buf, "127.0.0.1 pod\n"),
	   "the file graft reads");
	ok(t_create(dir.nodeid, "made-in-guest", O_WRONLY, 0644, &e, &fh) == 0 &&
		   t_write(e.nodeid, fh, 0, "x", 1, &written) == 0 && written == 1 &&
		   host_exists("rootfs/made-in-guest"),
	   "CREATE and WRITE in the directory graft reach the host directory");
	t_release(e.nodeid, fh);
	ok(t_open(file.nodeid, O_WRONLY, &fh) == 0 && t_write(file.nodeid, fh, 0, "10", 2, &written) == 0,
	   "WRITE to the file graft");
	t_release(file.nodeid, fh);

	for (int plus = 0; plus < 2; plus++) {
		list_root(plus, names, sizeof(names));
		ok(!strcmp(names, ". .. ctr1-rootfs ctr1-hosts"), "%s of the root lists the grafts (%s)",
		   plus ? "READDIRPLUS" : "READDIR", names);
	}

	/* The root itself is not the guest's. */
	ok(t_mkdir(FUSE_ROOT_ID, "new", 0755, &e) == -EPERM, "MKDIR in the root: EPERM");
	ok(t_create(FUSE_ROOT_ID, "new", O_WRONLY, 0644, &e, &fh) == -EPERM, "CREATE in the root: EPERM");
	ok(t_symlink(FUSE_ROOT_ID, "new", "/", &e) == -EPERM, "SYMLINK in the root: EPERM");
	ok(t_remove(FUSE_UNLINK, FUSE_ROOT_ID, "ctr1-hosts") == -EPERM, "UNLINK of a graft: EPERM");
	ok(t_remove(FUSE_RMDIR, FUSE_ROOT_ID, "ctr1-rootfs") == -EPERM, "RMDIR of a graft: EPERM");
	ok(t_rename(FUSE_ROOT_ID, "ctr1-hosts", FUSE_ROOT_ID, "other") == -EPERM,
	   "RENAME in the root: EPERM");
	ok(t_rename(dir.nodeid, "hello", FUSE_ROOT_ID, "hello") == -EPERM,
	   "RENAME from a graft into the root: EPERM");
	ok(t_link(file.nodeid, FUSE_ROOT_ID, "again", &e) == -EPERM, "LINK into the root: EPERM");
	ok(t_setattr(FUSE_ROOT_ID, &chmod_in, NULL) == -EPERM, "SETATTR of the root: EPERM");
	ok(host_exists("rootfs/hello") && host_exists("hosts"), "the grafted host files are intact");

	/* Ungraft: gone by name, what the guest holds keeps working. */
	ok(fuse_server_ungraft(S, "nothing-") == 0, "ungraft of an unknown prefix: 0");
	ok(fuse_server_ungraft(S, "ctr1-") == 2, "ungraft by prefix: 2");
	ok(t_lookup(FUSE_ROOT_ID, "ctr1-rootfs", &e) == -ENOENT &&
		   t_lookup(FUSE_ROOT_ID, "ctr1-hosts", &e) == -ENOENT,
	   "ungrafted names are not found");
	list_root(false, names, sizeof(names));
	ok(!strcmp(names, ". .."), "nor listed (%s)", names);
	ok(read_node(file.nodeid, buf, sizeof(buf)) == 0 && !strncmp(buf, "10", 2),
	   "a node the guest holds still reads after ungraft");
	ok(t_lookup(dir.nodeid, "hello", &e) == 0, "and a held directory is still walked");
	/* LOOKUP and READDIRPLUS each gave a reference. */
	t_forget(dir.nodeid, 2);
	t_forget(file.nodeid, 2);
	ok(t_getattr(file.nodeid, NULL) == -ESTALE, "once forgotten, the node is gone");
}

static void test_names_and_cap(void)
{
	static const char *const bad[] = { "", ".", "..", "a/b", "a b", "caf\xc3\xa9", "x\ty" };
	char longest[FUSE_MAX_GRAFT_NAME + 2], name[32];
	int fds = count_fds(), n;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ok(graft(bad[i], open_host("hosts", O_RDONLY)) < 0, "graft name `%s` refused", bad[i]);
	memset(longest, 'n', sizeof(longest));
	longest[FUSE_MAX_GRAFT_NAME + 1] = '\0';
	ok(graft(longest, open_host("hosts", O_RDONLY)) < 0, "a %d-byte name refused",
	   FUSE_MAX_GRAFT_NAME + 1);
	longest[FUSE_MAX_GRAFT_NAME] = '\0';
	ok(graft(longest, open_host("hosts", O_RDONLY)) == 0, "a %d-byte name taken",
	   FUSE_MAX_GRAFT_NAME);
	ok(graft("A-z_0.9", open_host("hosts", O_RDONLY)) == 0, "every allowed character");
	ok(graft("A-z_0.9", open_host("hosts", O_RDONLY)) < 0, "a taken name refused");
	int p[2];
	ok(pipe(p) == 0 && graft("pipe", p[0]) < 0, "a pipe is no graft");
	close(p[1]);
	ok(count_fds() == fds + 2, "refused grafts' fds are closed");

	for (n = 2; n < FUSE_MAX_GRAFTS; n++) {
		snprintf(name, sizeof(name), "cap-%d", n);
		if (graft(name, open_host("hosts", O_RDONLY)) < 0)
			break;
	}
	ok(n == FUSE_MAX_GRAFTS, "%d grafts taken", n);
	ok(graft("one-more", open_host("hosts", O_RDONLY)) < 0, "graft %d refused",
	   FUSE_MAX_GRAFTS + 1);
	ok(fuse_server_ungraft(S, "cap-") == FUSE_MAX_GRAFTS - 2, "ungraft cap-: %d",
	   FUSE_MAX_GRAFTS - 2);
	ok(fuse_server_ungraft(S, "") == 2, "the empty prefix takes the rest");
	ok(count_fds() == fds, "ungraft closes the grafts' fds");
}

/* The kernel, not the server, makes a read-only graft read-only. */
static void test_readonly_mount(void)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	struct fuse_entry_out dir, rw, e;
	char path[PATH_MAX + 16], buf[64];
	uint64_t fh = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/rootfs", base);
	fd = geteuid() == 0 ? (int)syscall(SYS_open_tree, AT_FDCWD, path,
					 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
			    : -1;
	if (fd < 0 || syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0) {
		printf("ok %d # SKIP no detached read-only mount here (%s)\n", ++tap_n,
		       geteuid() ? "not root" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	/* The same tree writable beside it, looked up first: the read-only
	 * graft must not get its node (same st_dev/st_ino, other mount). */
	ok(graft("rw", open_host("rootfs", O_PATH | O_DIRECTORY)) == 0 && graft("ro", fd) == 0,
	   "graft a tree and a read-only detached mount of it");
	ok(t_lookup(FUSE_ROOT_ID, "rw", &rw) == 0 && t_lookup(rw.nodeid, "hello", &e) == 0,
	   "the writable one is looked up");
	ok(t_lookup(FUSE_ROOT_ID, "ro", &dir) == 0 && dir.nodeid != rw.nodeid &&
		   t_lookup(dir.nodeid, "hello", &e) == 0 &&
		   read_node(e.nodeid, buf, sizeof(buf)) == 0 && !strcmp(buf, "hello from the rootfs\n"),
	   "the read-only one is a node of its own and reads");
	ok(t_create(dir.nodeid, "nope", O_WRONLY, 0644, &e, &fh) == -EROFS && !host_exists("rootfs/nope"),
	   "CREATE in it: EROFS from the kernel");
	ok(t_lookup(dir.nodeid, "hello", &e) == 0 && t_open(e.nodeid, O_WRONLY, &fh) == -EROFS,
	   "a file in it does not open for writing");
	ok(t_create(rw.nodeid, "yes", O_WRONLY, 0644, &e, &fh) == 0 && host_exists("rootfs/yes"),
	   "while the writable graft still writes");
	t_release(e.nodeid, fh);
	fuse_server_ungraft(S, "r");
}

/* Workers look names up while the control thread grafts. */
static atomic_bool churn_done;

static void *graft_churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&churn_done)) {
		novm_error_t err = NULL;

		if (fuse_server_graft(S, "churn", open_host("hosts", O_RDONLY), &err) < 0)
			novm_error_release(&err);
		usleep(100);
		fuse_server_ungraft(S, "churn");
		usleep(100);
	}
	return NULL;
}

static void test_threads(void)
{
	time_t end = time(NULL) + 10;
	pthread_t th;
	int found = 0, missed = 0, bad = 0;

	pthread_create(&th, NULL, graft_churn, NULL);
	/* Until both outcomes were seen often enough, or time is up. */
	for (int i = 0; (i < 2000 || found < 10 || missed < 10) && time(NULL) < end; i++) {
		struct fuse_entry_out e;
		int r = t_lookup(FUSE_ROOT_ID, "churn", &e);

		if (r == 0) {
			found++;
			t_forget(e.nodeid, 1);
		} else if (r == -ENOENT) {
			missed++;
		} else {
			bad++;
		}
	}
	atomic_store(&churn_done, true);
	pthread_join(th, NULL);
	ok(bad == 0 && found > 0 && missed > 0,
	   "lookups racing graft/ungraft find it (%d times) or not (%d), nothing else", found, missed);
}

int main(void)
{
	if (fixture_begin(base, 120) < 0)
		return 0;
	int fds_before = count_fds();
	struct fuse_server_config cfg = { .grafts = true };
	novm_error_t err = NULL;

	T = treq_new();
	ok(fuse_server_new(&cfg, &S, &err) == 0, "a graft root without a host directory");
	if (!S) {
		printf("# %s\n", err ? err->msg : "?");
		return tap_done();
	}
	ok(t_init() == 0, "INIT");
	test_empty_root();
	test_grafts();
	test_names_and_cap();
	test_readonly_mount();
	test_threads();
	fuse_server_free(S);

	/* Only a graft root takes grafts. */
	S = fixture_server(false);
	ok(S && fuse_server_graft(S, "x", open_host("hosts", O_RDONLY), &err) < 0,
	   "an ordinary share takes no grafts");
	novm_error_release(&err);
	fuse_server_free(S);
	struct fuse_server_config both = { .grafts = true, .only_name = "hosts", .root = base };
	ok(fuse_server_new(&both, &S, &err) < 0, "grafts and a single file do not mix");
	novm_error_release(&err);

	ok(count_fds() == fds_before, "no fd leaked once the servers are freed");
	treq_free(T);
	fixture_cleanup(base);
	return tap_done();
}
