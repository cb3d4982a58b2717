/* Confinement: a hostile guest must never reach a host file outside the
 * share, nor crash the host with malformed requests.  Symlinks (absolute,
 * relative, dangling, to directories, to /proc), "..", names with '/',
 * device nodes, forged ids, truncated requests, huge lengths, and a burst
 * of random requests. */
#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fuse-client.h"

static char base[PATH_MAX];
static char outside[PATH_MAX + 32];	/* a secret next to the share */

static void make_links(void)
{
	char p[PATH_MAX * 2 + 32], created[PATH_MAX + 32];

	snprintf(outside, sizeof(outside), "%s/secret", base);
	FILE *f = fopen(outside, "w");
	fputs("SECRET", f);
	fclose(f);
	snprintf(created, sizeof(created), "%s/created-outside", base);

	struct { const char *name, *target; } links[] = {
		{ "abs", "/etc/passwd" },
		{ "rel", "../../../../../../../etc/passwd" },
		{ "up", "../secret" },
		{ "updir", ".." },
		{ "absdir", "/etc" },
		{ "dangling", "../created-outside" },
		{ "proc", "/proc/self/root/etc/passwd" },
		{ "dangling-abs", created },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(p, sizeof(p), "%s/%s", share, links[i].name);
		symlink(links[i].target, p);
	}
}

static void test_symlinks(void)
{
	struct fuse_entry_out e;
	char buf[PATH_MAX];
	struct stat st;
	uint64_t fh;
	int r;

	ok(t_lookup(FUSE_ROOT_ID, "abs", &e) == 0 && S_ISLNK(e.attr.mode) &&
	   e.attr.size == strlen("/etc/passwd"), "LOOKUP of a symlink to /etc/passwd: the symlink itself");
	ok(t_open(e.nodeid, O_RDONLY, NULL) == -ELOOP, "OPEN of it: ELOOP");
	ok(t_readlink(e.nodeid, buf, sizeof(buf)) == 0 && strcmp(buf, "/etc/passwd") == 0,
	   "READLINK returns the text");
	ok(t_opendir(e.nodeid, NULL) == -ENOTDIR, "OPENDIR of it: ENOTDIR");
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE, .size = 0 };
	stat("/etc/passwd", &st);
	off_t passwd_size = st.st_size;
	ok(t_setattr(e.nodeid, &sa, NULL) < 0 && stat("/etc/passwd", &st) == 0 &&
	   st.st_size == passwd_size, "SETATTR truncate of it fails, /etc/passwd intact");
	sa = (struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = 0777 };
	ok(t_setattr(e.nodeid, &sa, NULL) < 0 && stat("/etc/passwd", &st) == 0 &&
	   (st.st_mode & 0777) != 0777, "SETATTR chmod of it fails, /etc/passwd's mode intact");
	r = t_setxattr(e.nodeid, "trusted.novm-test", "x", 1, 0);
	ok(getxattr("/etc/passwd", "trusted.novm-test", buf, sizeof(buf)) < 0 && errno == ENODATA,
	   "SETXATTR on it never reaches /etc/passwd (%d)", r);
	sa = (struct fuse_setattr_in){ .valid = FATTR_MTIME, .mtime = 12345 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && stat("/etc/passwd", &st) == 0 &&
	   st.st_mtime != 12345 && host_stat("abs", &st) == 0 && st.st_mtime == 12345,
	   "SETATTR times change the symlink, not /etc/passwd");

	ok(t_lookup(FUSE_ROOT_ID, "rel", &e) == 0 && S_ISLNK(e.attr.mode) &&
	   t_open(e.nodeid, O_RDONLY, NULL) == -ELOOP, "relative ../../.. symlink: a symlink, ELOOP");
	ok(t_lookup(FUSE_ROOT_ID, "up", &e) == 0 && t_open(e.nodeid, O_RDWR, NULL) == -ELOOP,
	   "symlink to a file next to the share: ELOOP");
	ok(t_lookup(FUSE_ROOT_ID, "proc", &e) == 0 && t_open(e.nodeid, O_RDONLY, NULL) == -ELOOP,
	   "symlink through /proc/self/root: ELOOP");

	ok(t_lookup(FUSE_ROOT_ID, "updir", &e) == 0 && S_ISLNK(e.attr.mode), "symlink to ..");
	ok(t_lookup(e.nodeid, "secret", NULL) == -ENOTDIR, "LOOKUP through it: ENOTDIR");
	ok(t_create(e.nodeid, "x", O_WRONLY, 0644, NULL, NULL) == -ENOTDIR, "CREATE through it: ENOTDIR");
	ok(t_mkdir(e.nodeid, "x", 0755, NULL) == -ENOTDIR, "MKDIR through it: ENOTDIR");
	ok(t_lookup(FUSE_ROOT_ID, "absdir", &e) == 0 && t_lookup(e.nodeid, "passwd", NULL) == -ENOTDIR,
	   "LOOKUP through a symlink to /etc: ENOTDIR");
	ok(t_rename(e.nodeid, "passwd", FUSE_ROOT_ID, "stolen") == -ENOTDIR &&
	   stat("/etc/passwd", &st) == 0, "RENAME out of it: ENOTDIR");

	char created[PATH_MAX + 32];
	snprintf(created, sizeof(created), "%s/created-outside", base);
	ok(t_create(FUSE_ROOT_ID, "dangling", O_WRONLY, 0644, NULL, NULL) == -ELOOP &&
	   stat(created, &st) < 0, "CREATE over a dangling symlink does not create its target");
	ok(t_create(FUSE_ROOT_ID, "dangling-abs", O_RDWR | O_TRUNC, 0644, NULL, NULL) < 0 &&
	   stat(created, &st) < 0, "nor over an absolute one");
	ok(t_create(FUSE_ROOT_ID, "dangling", O_WRONLY | O_EXCL, 0644, NULL, NULL) == -EEXIST,
	   "CREATE O_EXCL over it: EEXIST");
	ok(t_mkdir(FUSE_ROOT_ID, "dangling", 0755, NULL) == -EEXIST && stat(created, &st) < 0,
	   "MKDIR over it: EEXIST");
	ok(t_mknod(FUSE_ROOT_ID, "dangling", S_IFREG | 0644, 0, NULL) == -EEXIST &&
	   stat(created, &st) < 0, "MKNOD over it: EEXIST");

	/* A hard link of the symlink is a symlink, still never followed. */
	struct fuse_entry_out l;
	t_lookup(FUSE_ROOT_ID, "up", &e);
	ok(t_link(e.nodeid, FUSE_ROOT_ID, "up-link", &l) == 0 && S_ISLNK(l.attr.mode) &&
	   host_stat("up-link", &st) == 0 && S_ISLNK(st.st_mode), "LINK of a symlink links the symlink");

	/* The secret is reachable by no op. */
	ok(t_lookup(FUSE_ROOT_ID, "secret", NULL) == -ENOENT, "the file outside is not in the share");
	ok(t_create(FUSE_ROOT_ID, "up", O_RDONLY, 0644, NULL, &fh) == -ELOOP,
	   "CREATE without O_EXCL on a symlink to it: ELOOP");
}

static void test_names(void)
{
	char longname[NAME_MAX + 2];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(t_lookup(FUSE_ROOT_ID, "..", NULL) == -EINVAL, "LOOKUP ..: EINVAL");
	ok(t_lookup(FUSE_ROOT_ID, ".", NULL) == -EINVAL, "LOOKUP .: EINVAL");
	ok(t_lookup(FUSE_ROOT_ID, "", NULL) == -EINVAL, "LOOKUP of an empty name: EINVAL");
	ok(t_lookup(FUSE_ROOT_ID, "../secret", NULL) == -EINVAL, "LOOKUP ../secret: EINVAL");
	ok(t_lookup(FUSE_ROOT_ID, "/etc/passwd", NULL) == -EINVAL, "LOOKUP /etc/passwd: EINVAL");
	ok(t_lookup(FUSE_ROOT_ID, "a/b", NULL) == -EINVAL, "LOOKUP a/b: EINVAL");
	ok(t_lookup(FUSE_ROOT_ID, longname, NULL) == -ENAMETOOLONG, "a 256-byte name: ENAMETOOLONG");
	ok(t_create(FUSE_ROOT_ID, "../escape", O_WRONLY, 0644, NULL, NULL) == -EINVAL,
	   "CREATE ../escape: EINVAL");
	ok(t_mkdir(FUSE_ROOT_ID, "..", 0755, NULL) == -EINVAL, "MKDIR ..: EINVAL");
	ok(t_symlink(FUSE_ROOT_ID, "x/y", "t", NULL) == -EINVAL, "SYMLINK with a '/' name: EINVAL");
	ok(t_remove(FUSE_UNLINK, FUSE_ROOT_ID, "../secret") == -EINVAL &&
	   access(outside, F_OK) == 0, "UNLINK ../secret: EINVAL, secret still there");
	ok(t_remove(FUSE_RMDIR, FUSE_ROOT_ID, "..") == -EINVAL, "RMDIR ..: EINVAL");
	host_write("victim", "v");
	ok(t_rename(FUSE_ROOT_ID, "victim", FUSE_ROOT_ID, "../victim") == -EINVAL,
	   "RENAME to ../victim: EINVAL");
	ok(t_rename(FUSE_ROOT_ID, "../secret", FUSE_ROOT_ID, "mine") == -EINVAL,
	   "RENAME of ../secret: EINVAL");

	/* A name missing its NUL, up to the end of the request. */
	tr_begin(T, FUSE_LOOKUP, FUSE_ROOT_ID);
	tr_add(T, "victim", 6);
	ok(tr_send(T, S) == -EINVAL, "an unterminated name: EINVAL");
	/* Bytes after the NUL don't extend the name. */
	tr_begin(T, FUSE_LOOKUP, FUSE_ROOT_ID);
	tr_add(T, "vic\0tim", 8);
	ok(tr_send(T, S) == -ENOENT, "a name ends at its NUL");
	tr_begin(T, FUSE_SYMLINK, FUSE_ROOT_ID);
	tr_str(T, "nolink");
	ok(tr_send(T, S) == -EINVAL, "SYMLINK without a target: EINVAL");
}

static void test_devices(void)
{
	struct fuse_entry_out e;
	char p[PATH_MAX * 2 + 32];
	struct stat st;

	ok(t_mknod(FUSE_ROOT_ID, "sda", S_IFBLK | 0666, (8 << 8) | 0, NULL) == -EPERM &&
	   host_stat("sda", &st) < 0, "MKNOD of a block device: EPERM");
	ok(t_mknod(FUSE_ROOT_ID, "mem", S_IFCHR | 0666, (1 << 8) | 1, NULL) == -EPERM,
	   "MKNOD of a character device: EPERM");
	ok(t_mknod(FUSE_ROOT_ID, "wh", S_IFCHR | 0000, 0, &e) == 0 && host_stat("wh", &st) == 0 &&
	   S_ISCHR(st.st_mode) && st.st_rdev == 0, "MKNOD of a 0:0 whiteout is allowed");
	ok(t_open(e.nodeid, O_RDONLY, NULL) == -EACCES, "but never opened");

	/* A FIFO would block an open forever: never opened. */
	ok(t_mknod(FUSE_ROOT_ID, "pipe", S_IFIFO | 0666, 0, &e) == 0 &&
	   t_open(e.nodeid, O_RDONLY, NULL) == -EACCES, "OPEN of a FIFO: EACCES, no hang");
	ok(t_create(FUSE_ROOT_ID, "pipe", O_RDONLY, 0644, NULL, NULL) == -EACCES,
	   "CREATE without O_EXCL over a FIFO: EACCES, no hang");

	/* A device node the host put in the share (e.g. from an image). */
	snprintf(p, sizeof(p), "%s/null", share);
	if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		ok(t_lookup(FUSE_ROOT_ID, "null", &e) == 0 && S_ISCHR(e.attr.mode),
		   "a host device node looks like one");
		ok(t_open(e.nodeid, O_RDWR, NULL) == -EACCES, "OPEN of it: EACCES");
		ok(t_create(FUSE_ROOT_ID, "null", O_RDWR, 0644, NULL, NULL) == -EACCES,
		   "CREATE over it: EACCES (never opened)");
		struct fuse_setattr_in sa = { .valid = FATTR_SIZE, .size = 0 };
		ok(t_setattr(e.nodeid, &sa, NULL) == -EINVAL, "truncate of it: EINVAL");
	} else {
		for (int i = 0; i < 4; i++)
			ok(1, "# SKIP mknod needs CAP_MKNOD");
	}
}

static void test_forged_ids(void)
{
	struct fuse_entry_out e;
	uint64_t fh, dfh;
	/* Never handed out: slot 0, slots far beyond those used, the root's
	 * slot and another's with a wrong generation. */
	uint64_t bad[] = { 0, 999999, 0xffffffff, 1ull << 32 | 1, 0xfffffff0ull << 32 | 2,
			   0xffffffffffffffffull, 0x100000000000ull };

	int stale = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		stale += t_getattr(bad[i], NULL) == -ESTALE;
	ok(stale == (int)ARRAY_SIZE(bad), "forged node ids: ESTALE");
	ok(t_lookup(0xdeadbeef, "x", NULL) == -ESTALE, "LOOKUP under a forged parent: ESTALE");
	ok(t_link(0x12345678, FUSE_ROOT_ID, "x", NULL) == -ESTALE, "LINK of a forged node: ESTALE");
	ok(t_rename(FUSE_ROOT_ID, "victim", 77, "x") == -ESTALE, "RENAME into a forged dir: ESTALE");

	host_write("f", "f");
	t_lookup(FUSE_ROOT_ID, "f", &e);
	t_forget(e.nodeid, 1);
	ok(t_getattr(e.nodeid, NULL) == -ESTALE, "a forgotten node id: ESTALE");
	struct fuse_entry_out e2;
	t_lookup(FUSE_ROOT_ID, "victim", &e2);
	ok(t_getattr(e.nodeid, NULL) == -ESTALE && (uint32_t)e2.nodeid == (uint32_t)e.nodeid,
	   "even once its slot is reused (generation differs)");
	t_forget(e.nodeid, 1000);
	ok(t_getattr(e2.nodeid, NULL) == 0, "forgetting the stale id left the new node alone");

	t_lookup(FUSE_ROOT_ID, "f", &e);
	t_open(e.nodeid, O_RDONLY, &fh);
	t_opendir(FUSE_ROOT_ID, &dfh);
	uint64_t badfh[] = { 0, fh + 1, fh ^ (1ull << 32), 0xffffffffffffffffull, dfh };
	int badf = 0;
	for (size_t i = 0; i < ARRAY_SIZE(badfh); i++)
		badf += t_read(e.nodeid, badfh[i], 0, 1, NULL) == -EBADF;
	ok(badf == (int)ARRAY_SIZE(badfh), "forged file handles (and a dir handle): EBADF");
	t_release(e.nodeid, fh);
	ok(t_read(e.nodeid, fh, 0, 1, NULL) == -EBADF && t_release(e.nodeid, fh) == -EBADF,
	   "released handle: EBADF, double RELEASE too");
	t_release_op(FUSE_RELEASEDIR, FUSE_ROOT_ID, dfh);
}

/* Every prefix of a valid request, with the header's len saying so. */
static int truncations_fail(void)
{
	unsigned char *full = malloc(T->inlen);
	size_t len = T->inlen;
	int bad = 0;

	memcpy(full, T->in, len);
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(T->in, full, len);
		T->inlen = cut;
		if (cut >= sizeof(uint32_t))
			((struct fuse_in_header *)T->in)->len = cut;
		int r = tr_send_raw(T, S);
		if (cut < sizeof(struct fuse_in_header) ? T->ret != -EINVAL : r == 0)
			bad++;
	}
	memcpy(T->in, full, len);
	T->inlen = len;
	free(full);
	return bad;
}

static void test_malformed(void)
{
	struct fuse_entry_out e;
	uint64_t fh;
	struct iovec iov[2];
	unsigned char small[8];

	host_write("m", "0123456789");
	t_lookup(FUSE_ROOT_ID, "m", &e);
	t_open(e.nodeid, O_RDWR, &fh);

	tr_begin(T, FUSE_LOOKUP, FUSE_ROOT_ID);
	tr_str(T, "m");
	ok(truncations_fail() == 0, "every truncation of LOOKUP fails");
	struct fuse_write_in wi = { .fh = fh, .size = 10 };
	tr_begin(T, FUSE_WRITE, e.nodeid);
	tr_add(T, &wi, sizeof(wi));
	tr_add(T, "abcdefghij", 10);
	ok(truncations_fail() == 0, "every truncation of WRITE fails");
	struct fuse_create_in ci = { .flags = O_WRONLY, .mode = 0644 };
	tr_begin(T, FUSE_CREATE, FUSE_ROOT_ID);
	tr_add(T, &ci, sizeof(ci));
	tr_str(T, "trunc-created");
	ok(truncations_fail() == 0, "every truncation of CREATE fails");
	struct fuse_rename2_in ri = { .newdir = FUSE_ROOT_ID };
	tr_begin(T, FUSE_RENAME2, FUSE_ROOT_ID);
	tr_add(T, &ri, sizeof(ri));
	tr_str(T, "m");
	tr_str(T, "m2");
	ok(truncations_fail() == 0, "every truncation of RENAME2 fails");
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE, .size = 0 };
	tr_begin(T, FUSE_SETATTR, e.nodeid);
	tr_add(T, &sa, sizeof(sa));
	ok(truncations_fail() == 0, "every truncation of SETATTR fails");
	struct fuse_setxattr_in xi = { .size = 3 };
	tr_begin(T, FUSE_SETXATTR, e.nodeid);
	tr_add(T, &xi, FUSE_COMPAT_SETXATTR_IN_SIZE);
	tr_str(T, "user.t");
	tr_add(T, "abc", 3);
	ok(truncations_fail() == 0, "every truncation of SETXATTR fails");
	char buf[32];
	ok(host_read("m", buf, sizeof(buf)) == 10 && strcmp(buf, "0123456789") == 0,
	   "and the file is untouched");

	/* The header's len against the bytes really there. */
	tr_begin(T, FUSE_GETATTR, FUSE_ROOT_ID);
	tr_add(T, &(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in));
	((struct fuse_in_header *)T->in)->len = T->inlen + 1;
	ok(tr_send_raw(T, S) == -EINVAL, "len beyond the buffer: EINVAL");
	((struct fuse_in_header *)T->in)->len = 0xffffffff;
	ok(tr_send_raw(T, S) == -EINVAL, "len 4 GiB: EINVAL");
	((struct fuse_in_header *)T->in)->len = 10;
	ok(tr_send_raw(T, S) == -EINVAL, "len shorter than the header: EINVAL");
	((struct fuse_in_header *)T->in)->len = T->inlen;
	((struct fuse_in_header *)T->in)->total_extlen = 0xffff;
	ok(tr_send_raw(T, S) == -EINVAL, "extensions longer than the request: EINVAL");

	/* Sizes in the arguments. */
	wi = (struct fuse_write_in){ .fh = fh, .size = 0xffffffff };
	tr_begin(T, FUSE_WRITE, e.nodeid);
	tr_add(T, &wi, sizeof(wi));
	tr_add(T, "abc", 3);
	ok(tr_send(T, S) == -EINVAL, "WRITE claiming 4 GiB with 3 bytes: EINVAL");
	wi.size = 2;
	tr_begin(T, FUSE_WRITE, e.nodeid);
	tr_add(T, &wi, sizeof(wi));
	tr_add(T, "abc", 3);
	ok(tr_send(T, S) == -EINVAL, "WRITE with more data than size: EINVAL");
	T->outcap = sizeof(struct fuse_out_header) + 4;
	ok(t_read(e.nodeid, fh, 0, 0xffffffff, NULL) == -EINVAL,
	   "READ of 4 GiB into 4 bytes of room: EINVAL, not a short read");
	ok(t_read(e.nodeid, fh, 0, 4, NULL) == 0 && tr_body_len(T) == 4, "READ that fits: fine");
	ok(t_lookup(FUSE_ROOT_ID, "m", NULL) == -EINVAL, "no room for an entry: EINVAL");
	T->outcap = TR_BUF;
	ok(t_read(e.nodeid, fh, 0x8000000000000000ull, 4, NULL) == -EINVAL, "READ at offset 2^63: EINVAL");
	ok(t_getxattr(e.nodeid, "user.none", 0xffffffff) < 0, "GETXATTR with a 4 GiB size: just an error");
	xi = (struct fuse_setxattr_in){ .size = 0x40000000 };
	tr_begin(T, FUSE_SETXATTR, e.nodeid);
	tr_add(T, &xi, FUSE_COMPAT_SETXATTR_IN_SIZE);
	tr_str(T, "user.t");
	ok(tr_send(T, S) == -E2BIG, "SETXATTR claiming 1 GiB: E2BIG");

	struct fuse_batch_forget_in bf = { .count = 0xffffffff };
	struct fuse_forget_one one = { .nodeid = 0x4242, .nlookup = 1 };
	tr_begin(T, FUSE_BATCH_FORGET, 0);
	tr_add(T, &bf, sizeof(bf));
	tr_add(T, &one, sizeof(one));
	ok(tr_send(T, S) == 0 && T->ret == 0, "BATCH_FORGET counting 4 billion with one entry: ignored");
	tr_begin(T, FUSE_FORGET, e.nodeid);
	ok(tr_send(T, S) == 0 && T->ret == 0 && t_getattr(e.nodeid, NULL) == 0,
	   "FORGET without its argument: ignored");

	/* Buffers the transport should never give, but might. */
	tr_begin(T, FUSE_GETATTR, FUSE_ROOT_ID);
	tr_add(T, &(struct fuse_getattr_in){ 0 }, sizeof(struct fuse_getattr_in));
	((struct fuse_in_header *)T->in)->len = T->inlen;
	iov[0] = (struct iovec){ T->in, T->inlen };
	iov[1] = (struct iovec){ small, sizeof(small) };
	ok(fuse_server_handle(S, iov, 1, &iov[1], 1) == -EINVAL, "reply space shorter than a header: -EINVAL");
	ok(fuse_server_handle(S, iov, 0, &iov[1], 1) == -EINVAL, "no request at all: -EINVAL");
	ok(fuse_server_handle(S, iov, -1, &iov[1], 1) == -EINVAL, "negative segment count: -EINVAL");
	iov[0] = (struct iovec){ T->in, 20 };
	ok(fuse_server_handle(S, iov, 1, &iov[1], 1) == -EINVAL, "request shorter than a header: -EINVAL");
	struct iovec zero[3] = { { T->in, 0 }, { T->in, T->inlen }, { T->in, 0 } };
	struct iovec outv[3] = { { T->out, 0 }, { T->out, 3 }, { T->out + 3, TR_BUF - 3 } };
	ok(fuse_server_handle(S, zero, 3, outv, 3) > 0 && ((struct fuse_out_header *)T->out)->error == 0,
	   "empty segments and a header split across segments are fine");
	t_release(e.nodeid, fh);
}

/* Random requests with plausible headers: nothing may crash or leak. */
static void test_random(void)
{
	unsigned seed = 12345;
	int answered = 0;

	for (int i = 0; i < 20000; i++) {
		uint32_t op = rand_r(&seed) % 52;
		if (op == FUSE_DESTROY || op == FUSE_INIT)
			continue;
		uint64_t ids[] = { FUSE_ROOT_ID, 2, 1ull << 32 | 2, (uint64_t)rand_r(&seed), 0 };
		tr_begin(T, op, ids[rand_r(&seed) % ARRAY_SIZE(ids)]);
		size_t n = rand_r(&seed) % 200;
		for (size_t j = 0; j < n; j++) {
			unsigned char c = rand_r(&seed) % 4 ? (unsigned char)rand_r(&seed) : 0;
			/* Keep names inside the share's harmless corner. */
			if (c == '/' || c == '.')
				c = 'z';
			tr_add(T, &c, 1);
		}
		T->split = rand_r(&seed) % 3 ? 0 : 1 + rand_r(&seed) % 9;
		int r = tr_send(T, S);
		answered += T->ret > 0 && r <= 0;
	}
	T->split = 0;
	ok(answered > 0, "20000 random requests served without crashing (%d answered)", answered);
	ok(access(outside, F_OK) == 0 && t_getattr(FUSE_ROOT_ID, NULL) == 0,
	   "the secret is still there and the server still serves");
}

/* Names in a directory listing reply, space-separated, in order. */
/* True when a listing holds only ".", ".." and resolv.conf, and that. */
static bool only_the_file(const char *names)
{
	char copy[256], *save = NULL;
	bool file = false;

	snprintf(copy, sizeof(copy), "%s", names);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strcmp(w, "resolv.conf"))
			file = true;
		else if (strcmp(w, ".") && strcmp(w, ".."))
			return false;
	}
	return file;
}

/* A file bind mount is served as a single-file share of its directory:
 * the guest must not see, make, remove or rename anything else there. */
static void test_single_file_share(void)
{
	struct fuse_server *whole = S, *one = NULL;
	struct fuse_server_config cfg = { .root = share, .only_name = "resolv.conf" };
	struct fuse_setattr_in chmod_in = { .valid = FATTR_MODE, .mode = 0777 };
	struct fuse_entry_out e, file;
	novm_error_t err = NULL;
	char names[256], data[64];
	uint64_t fh, dir_fh;
	uint32_t written;
	size_t got;
	struct stat before, after;

	static const char *const bad_names[] = { "", "a/b", "..", "." };
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
		struct fuse_server_config bad = { .root = share, .only_name = bad_names[i] };
		ok(fuse_server_new(&bad, &one, &err) < 0 && err && strstr(err->msg, "not a file name"),
		   "single-file share of \"%s\" refused", bad_names[i]);
		novm_error_release(&err);
	}

	host_write("resolv.conf", "nameserver 10.0.0.1\n");
	host_write("sibling-secret", "not yours\n");
	char path[sizeof(share) + 16];
	snprintf(path, sizeof(path), "%s/sub", share);
	mkdir(path, 0755);
	if (fuse_server_new(&cfg, &one, &err) < 0) {
		ok(false, "single-file server: %s", err->msg);
		novm_error_release(&err);
		return;
	}
	S = one;
	t_init();
	ok(t_lookup(FUSE_ROOT_ID, "resolv.conf", &file) == 0, "the shared file is found");
	ok(t_lookup(FUSE_ROOT_ID, "sibling-secret", &e) == -ENOENT, "a sibling file is not");
	ok(t_lookup(FUSE_ROOT_ID, "sub", &e) == -ENOENT, "a sibling directory is not");

	ok(t_opendir(FUSE_ROOT_ID, &dir_fh) == 0, "OPENDIR of the root");
	for (int plus = 0; plus < 2; plus++) {
		int r = t_read_op(plus ? FUSE_READDIRPLUS : FUSE_READDIR, FUSE_ROOT_ID, dir_fh, 0, 65536, &got);
		listing_names(tr_body(T), r == 0 ? got : 0, plus, names, sizeof(names));
		ok(r == 0 && only_the_file(names), "%s lists only the file (%s)",
		   plus ? "READDIRPLUS" : "READDIR", names);
	}
	/* The node id a READDIR names is the guest's word: the fh decides. */
	ok(t_read_op(FUSE_READDIR, file.nodeid, dir_fh, 0, 65536, &got) == 0, "READDIR naming another node");
	listing_names(tr_body(T), got, false, names, sizeof(names));
	ok(only_the_file(names), "still lists only the file (%s)", names);
	t_release_op(FUSE_RELEASEDIR, FUSE_ROOT_ID, dir_fh);

	stat(share, &before);
	ok(t_mkdir(FUSE_ROOT_ID, "new", 0755, &e) == -EPERM, "MKDIR in the root: EPERM");
	ok(t_create(FUSE_ROOT_ID, "new", O_WRONLY, 0644, &e, &fh) == -EPERM, "CREATE in the root: EPERM");
	ok(t_symlink(FUSE_ROOT_ID, "new", "/etc/shadow", &e) == -EPERM, "SYMLINK in the root: EPERM");
	ok(t_link(file.nodeid, FUSE_ROOT_ID, "new", &e) == -EPERM, "LINK into the root: EPERM");
	ok(t_remove(FUSE_UNLINK, FUSE_ROOT_ID, "resolv.conf") == -EPERM, "UNLINK of the file: EPERM");
	ok(t_remove(FUSE_UNLINK, FUSE_ROOT_ID, "sibling-secret") == -EPERM, "UNLINK of a sibling: EPERM");
	ok(t_rename(FUSE_ROOT_ID, "resolv.conf", FUSE_ROOT_ID, "sibling-secret") == -EPERM,
	   "RENAME over a sibling: EPERM");
	ok(t_setattr(FUSE_ROOT_ID, &chmod_in, NULL) == -EPERM, "chmod of the root: EPERM");
	ok(t_setxattr(FUSE_ROOT_ID, "user.x", "1", 1, 0) == -EPERM, "SETXATTR on the root: EPERM");
	stat(share, &after);
	ok(before.st_mode == after.st_mode && host_read("sibling-secret", data, sizeof(data)) == 10 &&
	   (snprintf(path, sizeof(path), "%s/new", share), access(path, F_OK) < 0),
	   "the host directory is unchanged");

	ok(t_open(file.nodeid, O_WRONLY | O_TRUNC, &fh) == 0 &&
	   t_write(file.nodeid, fh, 0, "nameserver 9.9.9.9\n", 19, &written) == 0 && written == 19,
	   "the file itself is writable");
	t_release(file.nodeid, fh);
	ok(host_read("resolv.conf", data, sizeof(data)) == 19 && !memcmp(data, "nameserver 9.9.9.9", 18),
	   "and the write reached the host file");

	fuse_server_free(one);
	S = whole;
}

int main(void)
{
	/* A hang (say, an open of a FIFO) must fail the test, not stall it. */
	alarm(300);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fixture_dir(base, sizeof(base)) < 0) {
		printf("1..0 # SKIP no temp dir: %s\n", strerror(errno));
		return 0;
	}
	int fds_before = count_fds();
	make_links();
	T = treq_new();
	S = fixture_server(false);
	ok(S != NULL, "fuse_server_new");
	if (S) {
		t_init();
		test_symlinks();
		test_names();
		test_devices();
		test_forged_ids();
		test_malformed();
		test_random();
		test_single_file_share();
		fuse_server_free(S);
	}
	ok(count_fds() == fds_before, "no fd leaked once the server is freed");
	ok(access(outside, F_OK) == 0, "the secret outside the share survived");
	treq_free(T);
	fixture_cleanup(base);
	return tap_done();
}
