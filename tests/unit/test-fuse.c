/* The FUSE server against a temp dir: INIT, entries, file I/O, namespace
 * ops and their effect on the host, attributes, xattrs, read-only shares,
 * session end, the descriptor budget.  Confinement is test-fuse-escape.c, directories and
 * concurrency test-fuse-dir.c. */
#include <sys/xattr.h>

#include "fuse-client.h"

static void test_init(void)
{
	struct fuse_init_out out;

	ok(t_getattr(FUSE_ROOT_ID, NULL) == -EIO, "requests before INIT fail with EIO");
	ok(t_init_minor(6, 99, 0, NULL) == -EPROTO, "protocol 6 refused");
	ok(t_init_minor(7, 5, 0, NULL) == -EPROTO, "prehistoric minor refused");

	memset(&out, 0, sizeof(out));
	ok(t_init_minor(7, 22, 0, &out) == 0 && tr_body_len(T) == FUSE_COMPAT_22_INIT_OUT_SIZE &&
	   out.minor == 22, "a 7.22 guest gets the short reply it knows");

	memset(&out, 0, sizeof(out));
	ok(t_init_minor(7, 31, 0xffffffff, &out) == 0, "INIT 7.31");
	ok(out.major == 7 && out.minor == 31, "minor is the guest's when lower (7.%u)", out.minor);
	ok(tr_body_len(T) == sizeof(out), "full init_out");

	memset(&out, 0, sizeof(out));
	ok(t_init_minor(7, 99, 0xffffffff, &out) == 0 && out.minor == 38,
	   "minor is ours when the guest's is higher (7.%u)", out.minor);
	ok(out.max_write >= 128 * 1024, "max_write %u >= 128 KiB", out.max_write);
	ok((out.flags & FUSE_DO_READDIRPLUS) && (out.flags & FUSE_ASYNC_READ) &&
	   (out.flags & FUSE_ATOMIC_O_TRUNC) && (out.flags & FUSE_PARALLEL_DIROPS),
	   "offers readdirplus, async read, atomic O_TRUNC, parallel dirops (0x%x)", out.flags);
	ok(!(out.flags & (FUSE_WRITEBACK_CACHE | FUSE_POSIX_ACL | FUSE_POSIX_LOCKS | FUSE_EXPORT_SUPPORT |
			  FUSE_DONT_MASK | FUSE_SETXATTR_EXT | FUSE_INIT_EXT)),
	   "does not offer what it does not implement");

	ok(t_init_minor(7, 38, FUSE_ASYNC_READ, &out) == 0 && out.flags == FUSE_ASYNC_READ,
	   "never offers more than the guest has");
	ok(T->ret == (ssize_t)(sizeof(struct fuse_out_header) + sizeof(out)),
	   "return value is the reply length");
	ok(((struct fuse_out_header *)T->out)->unique == T->unique, "unique echoed");
}

static void test_lookup(void)
{
	struct fuse_entry_out e, e2;
	struct fuse_attr a;
	struct stat st;

	host_write("hello.txt", "hello");
	stat(share, &st);
	ok(t_getattr(FUSE_ROOT_ID, &a) == 0 && S_ISDIR(a.mode) && a.ino == st.st_ino,
	   "GETATTR of the root is the share");

	host_stat("hello.txt", &st);
	ok(t_lookup(FUSE_ROOT_ID, "hello.txt", &e) == 0, "LOOKUP hello.txt");
	ok(S_ISREG(e.attr.mode) && e.attr.size == 5 && e.attr.ino == st.st_ino &&
	   e.attr.mode == st.st_mode && e.attr.nlink == 1, "entry attributes are the host file's");
	ok(e.nodeid != 0 && e.nodeid != FUSE_ROOT_ID && e.entry_valid > 0, "a node id and a timeout");
	ok(t_getattr(e.nodeid, &a) == 0 && a.size == 5 && a.ino == st.st_ino, "GETATTR by node id");
	ok(t_lookup(FUSE_ROOT_ID, "hello.txt", &e2) == 0 && e2.nodeid == e.nodeid,
	   "a second LOOKUP gives the same node id");
	ok(t_lookup(FUSE_ROOT_ID, "missing", NULL) == -ENOENT, "LOOKUP of a missing name: ENOENT");
	ok(t_lookup(e.nodeid, "x", NULL) == -ENOTDIR, "LOOKUP under a file: ENOTDIR");

	t_forget(e.nodeid, 1);
	ok(t_getattr(e.nodeid, NULL) == 0, "still alive after forgetting one of two lookups");
	t_forget(e.nodeid, 1);
	ok(t_getattr(e.nodeid, NULL) == -ESTALE, "forgotten node id is stale");
	ok(t_lookup(FUSE_ROOT_ID, "hello.txt", &e2) == 0 && e2.nodeid != e.nodeid,
	   "looked up again: a new node id (0x%llx)", (unsigned long long)e2.nodeid);
	t_forget(e2.nodeid, 1);
	t_forget(FUSE_ROOT_ID, 100);
	ok(t_getattr(FUSE_ROOT_ID, NULL) == 0, "the root can't be forgotten");
}

static void test_file_io(void)
{
	struct fuse_entry_out e;
	uint64_t fh, fh2;
	uint32_t written;
	size_t got;
	struct stat st;
	char buf[256];

	T->uid = 1234;
	T->gid = 5678;
	ok(t_create(FUSE_ROOT_ID, "new.txt", O_RDWR | O_CREAT, 0666, &e, &fh) == 0,
	   "CREATE new.txt");
	T->uid = T->gid = 0;
	ok(host_stat("new.txt", &st) == 0 && S_ISREG(st.st_mode), "the file exists on the host");
	ok((st.st_mode & 07777) == 0666, "with exactly the guest's mode, not the VMM's umask (0%o)",
	   st.st_mode & 07777);
	if (geteuid() == 0)
		ok(st.st_uid == 1234 && st.st_gid == 5678, "owned by the requesting guest user");
	else
		ok(1, "# SKIP ownership needs root");
	ok(e.attr.ino == st.st_ino && S_ISREG(e.attr.mode), "CREATE's entry is that file");

	ok(t_write(e.nodeid, fh, 0, "hello world", 11, &written) == 0 && written == 11, "WRITE 11 bytes");
	ok(host_read("new.txt", buf, sizeof(buf)) == 11 && strcmp(buf, "hello world") == 0,
	   "host file holds the data");
	ok(t_read(e.nodeid, fh, 0, 100, &got) == 0 && got == 11 &&
	   memcmp(tr_body(T), "hello world", 11) == 0, "READ returns it");
	ok(t_read(e.nodeid, fh, 6, 3, &got) == 0 && got == 3 && memcmp(tr_body(T), "wor", 3) == 0,
	   "READ at an offset");
	ok(t_read(e.nodeid, fh, 100, 10, &got) == 0 && got == 0, "READ past the end: 0 bytes");
	ok(t_write(e.nodeid, fh, 20, "X", 1, &written) == 0 && host_stat("new.txt", &st) == 0 &&
	   st.st_size == 21, "WRITE past the end grows the file");

	/* Many segments: the data crosses iovec boundaries both ways. */
	T->split = 7;
	ok(t_write(e.nodeid, fh, 0, "segmented write!", 16, &written) == 0 && written == 16,
	   "WRITE from 7-byte segments");
	ok(t_read(e.nodeid, fh, 0, 16, &got) == 0 && got == 16 &&
	   memcmp(tr_body(T), "segmented write!", 16) == 0, "READ into 7-byte segments");
	T->split = 0;

	ok(t_open(e.nodeid, O_RDONLY, &fh2) == 0 && fh2 != fh, "OPEN read-only");
	ok(t_write(e.nodeid, fh2, 0, "x", 1, NULL) == -EBADF, "WRITE on a read-only handle fails");
	ok(t_release(e.nodeid, fh2) == 0, "RELEASE");
	ok(t_read(e.nodeid, fh2, 0, 1, NULL) == -EBADF, "a released handle is dead");

	ok(t_open(e.nodeid, O_WRONLY | O_TRUNC, &fh2) == 0 && host_stat("new.txt", &st) == 0 &&
	   st.st_size == 0, "OPEN with O_TRUNC truncates");
	t_release(e.nodeid, fh2);

	struct fuse_flush_in fl = { .fh = fh };
	tr_begin(T, FUSE_FLUSH, e.nodeid);
	tr_add(T, &fl, sizeof(fl));
	ok(tr_send(T, S) == 0, "FLUSH");
	struct fuse_fsync_in fs = { .fh = fh, .fsync_flags = FUSE_FSYNC_FDATASYNC };
	tr_begin(T, FUSE_FSYNC, e.nodeid);
	tr_add(T, &fs, sizeof(fs));
	ok(tr_send(T, S) == 0, "FSYNC");

	struct fuse_fallocate_in fa = { .fh = fh, .offset = 0, .length = 65536 };
	tr_begin(T, FUSE_FALLOCATE, e.nodeid);
	tr_add(T, &fa, sizeof(fa));
	int r = tr_send(T, S);
	ok(r == 0 && host_stat("new.txt", &st) == 0 && st.st_size == 65536, "FALLOCATE (%d)", r);

	t_write(e.nodeid, fh, 0, "data", 4, NULL);
	struct fuse_lseek_in ls = { .fh = fh, .offset = 0, .whence = SEEK_DATA };
	tr_begin(T, FUSE_LSEEK, e.nodeid);
	tr_add(T, &ls, sizeof(ls));
	ok(tr_send(T, S) == 0 && ((struct fuse_lseek_out *)tr_body(T))->offset == 0, "LSEEK SEEK_DATA");
	ls.whence = 77;
	tr_begin(T, FUSE_LSEEK, e.nodeid);
	tr_add(T, &ls, sizeof(ls));
	ok(tr_send(T, S) == -EINVAL, "LSEEK with a bad whence: EINVAL");

	struct fuse_entry_out e2;
	uint64_t fh3;
	ok(t_create(FUSE_ROOT_ID, "copy.txt", O_WRONLY, 0644, &e2, &fh3) == 0, "CREATE copy.txt");
	struct fuse_copy_file_range_in cp = { .fh_in = fh, .off_in = 0, .nodeid_out = e2.nodeid,
					      .fh_out = fh3, .off_out = 0, .len = 4 };
	tr_begin(T, FUSE_COPY_FILE_RANGE, e.nodeid);
	tr_add(T, &cp, sizeof(cp));
	ok(tr_send(T, S) == 0 && ((struct fuse_write_out *)tr_body(T))->size == 4 &&
	   host_read("copy.txt", buf, sizeof(buf)) == 4 && strcmp(buf, "data") == 0,
	   "COPY_FILE_RANGE copies on the host");

	ok(t_create(FUSE_ROOT_ID, "copy.txt", O_WRONLY | O_EXCL, 0644, NULL, NULL) == -EEXIST,
	   "CREATE with O_EXCL of an existing name: EEXIST");
	uint64_t fh4;
	ok(t_create(FUSE_ROOT_ID, "copy.txt", O_RDWR | O_TRUNC, 0644, &e, &fh4) == 0 &&
	   e.nodeid == e2.nodeid && host_stat("copy.txt", &st) == 0 && st.st_size == 0,
	   "CREATE without O_EXCL opens (and truncates) the existing file");

	t_release(0, fh);
	t_release(0, fh3);
	t_release(0, fh4);
}

static void test_namespace(void)
{
	struct fuse_entry_out d, f, l, s;
	struct stat st, st2;
	char buf[256];
	uint64_t fh;

	T->uid = 1000;
	T->gid = 1000;
	ok(t_mkdir(FUSE_ROOT_ID, "dir", 0750, &d) == 0 && S_ISDIR(d.attr.mode), "MKDIR dir");
	T->uid = T->gid = 0;
	ok(host_stat("dir", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750,
	   "the directory exists on the host with its mode");
	if (geteuid() == 0)
		ok(st.st_uid == 1000 && st.st_gid == 1000, "owned by the guest user");
	else
		ok(1, "# SKIP ownership needs root");
	ok(t_mkdir(FUSE_ROOT_ID, "dir", 0755, NULL) == -EEXIST, "MKDIR again: EEXIST");

	ok(t_create(d.nodeid, "f", O_WRONLY, 0644, &f, &fh) == 0, "CREATE dir/f");
	t_write(f.nodeid, fh, 0, "content", 7, NULL);
	t_release(f.nodeid, fh);

	ok(t_rename(d.nodeid, "f", FUSE_ROOT_ID, "moved") == 0 && host_stat("dir/f", &st) < 0 &&
	   host_read("moved", buf, sizeof(buf)) == 7, "RENAME moves dir/f to moved on the host");
	ok(t_link(f.nodeid, d.nodeid, "hard", &l) == 0 && l.nodeid == f.nodeid && l.attr.nlink == 2,
	   "LINK gives the same node, two links");
	ok(host_stat("dir/hard", &st) == 0 && host_stat("moved", &st2) == 0 && st.st_ino == st2.st_ino,
	   "the hard link is the same host inode");
	ok(t_link(d.nodeid, FUSE_ROOT_ID, "dirlink", NULL) == -EPERM, "no hard links to directories");

	ok(t_remove(FUSE_RMDIR, FUSE_ROOT_ID, "dir") == -ENOTEMPTY, "RMDIR of a non-empty dir: ENOTEMPTY");
	ok(t_remove(FUSE_UNLINK, d.nodeid, "hard") == 0 && host_stat("dir/hard", &st) < 0,
	   "UNLINK removes the name on the host");
	ok(t_getattr(f.nodeid, NULL) == 0, "the node stays valid while linked elsewhere");
	ok(t_remove(FUSE_RMDIR, FUSE_ROOT_ID, "dir") == 0 && host_stat("dir", &st) < 0,
	   "RMDIR removes the directory");
	ok(t_remove(FUSE_UNLINK, FUSE_ROOT_ID, "missing") == -ENOENT, "UNLINK of a missing name");

	ok(t_symlink(FUSE_ROOT_ID, "sl", "some/target", &s) == 0 && S_ISLNK(s.attr.mode),
	   "SYMLINK sl -> some/target");
	char path[PATH_MAX * 2 + 32];
	snprintf(path, sizeof(path), "%s/sl", share);
	ok(host_stat("sl", &st) == 0 && S_ISLNK(st.st_mode) && readlink(path, buf, sizeof(buf)) == 11 &&
	   memcmp(buf, "some/target", 11) == 0, "the host has that symlink");
	ok(t_readlink(s.nodeid, buf, sizeof(buf)) == 0 && strcmp(buf, "some/target") == 0,
	   "READLINK returns the target");
	ok(t_readlink(f.nodeid, buf, sizeof(buf)) == -EINVAL, "READLINK of a file: EINVAL");

	host_write("a", "A");
	host_write("b", "B");
	ok(t_rename2(FUSE_ROOT_ID, "a", FUSE_ROOT_ID, "b", RENAME_NOREPLACE) == -EEXIST,
	   "RENAME2 NOREPLACE onto an existing name: EEXIST");
	ok(t_rename2(FUSE_ROOT_ID, "a", FUSE_ROOT_ID, "b", RENAME_EXCHANGE) == 0 &&
	   host_read("a", buf, sizeof(buf)) == 1 && buf[0] == 'B', "RENAME2 EXCHANGE swaps");
	ok(t_rename2(FUSE_ROOT_ID, "a", FUSE_ROOT_ID, "c", 1u << 7) == -EINVAL,
	   "RENAME2 with unknown flags: EINVAL");
	ok(t_rename2(FUSE_ROOT_ID, "a", FUSE_ROOT_ID, "c", RENAME_NOREPLACE) == 0 &&
	   host_stat("c", &st) == 0, "RENAME2 NOREPLACE onto a free name");

	struct fuse_entry_out p;
	ok(t_mknod(FUSE_ROOT_ID, "fifo", S_IFIFO | 0600, 0, &p) == 0 && host_stat("fifo", &st) == 0 &&
	   S_ISFIFO(st.st_mode), "MKNOD of a FIFO");
	ok(t_mknod(FUSE_ROOT_ID, "reg", S_IFREG | 0600, 0, NULL) == 0 && host_stat("reg", &st) == 0 &&
	   S_ISREG(st.st_mode), "MKNOD of a regular file");
}

static void test_setattr(void)
{
	struct fuse_entry_out e;
	struct fuse_setattr_in in;
	struct fuse_attr a;
	struct stat st;
	uint64_t fh;

	host_write("attr.txt", "0123456789");
	t_lookup(FUSE_ROOT_ID, "attr.txt", &e);

	in = (struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = S_IFREG | 0604 };
	ok(t_setattr(e.nodeid, &in, &a) == 0 && (a.mode & 07777) == 0604 &&
	   host_stat("attr.txt", &st) == 0 && (st.st_mode & 07777) == 0604, "SETATTR chmod");

	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE, .size = 3 };
	ok(t_setattr(e.nodeid, &in, &a) == 0 && a.size == 3 && host_stat("attr.txt", &st) == 0 &&
	   st.st_size == 3, "SETATTR truncate");

	in = (struct fuse_setattr_in){ .valid = FATTR_MTIME | FATTR_ATIME, .mtime = 1000000,
				       .mtimensec = 5, .atime = 2000000 };
	ok(t_setattr(e.nodeid, &in, &a) == 0 && a.mtime == 1000000 && host_stat("attr.txt", &st) == 0 &&
	   st.st_mtim.tv_sec == 1000000 && st.st_mtim.tv_nsec == 5 && st.st_atim.tv_sec == 2000000,
	   "SETATTR times");
	/* Linux sends a time before 1970 as the u64 two's complement. */
	in = (struct fuse_setattr_in){ .valid = FATTR_MTIME | FATTR_ATIME, .mtime = (uint64_t)-1,
				       .atime = (uint64_t)-31536000 };
	ok(t_setattr(e.nodeid, &in, &a) == 0 && (int64_t)a.mtime == -1 &&
	   (int64_t)a.atime == -31536000 && host_stat("attr.txt", &st) == 0 &&
	   st.st_mtim.tv_sec == -1 && st.st_atim.tv_sec == -31536000,
	   "SETATTR times before 1970 (-1 and 1969-01-01 as u64), and the same back");
	in = (struct fuse_setattr_in){ .valid = FATTR_MTIME | FATTR_MTIME_NOW };
	ok(t_setattr(e.nodeid, &in, &a) == 0 && host_stat("attr.txt", &st) == 0 &&
	   st.st_mtim.tv_sec > 1000000, "SETATTR mtime now");
	in = (struct fuse_setattr_in){ .valid = FATTR_MTIME, .mtimensec = 2000000000 };
	ok(t_setattr(e.nodeid, &in, NULL) == -EINVAL, "SETATTR with nanoseconds >= 1e9: EINVAL");

	if (geteuid() == 0) {
		in = (struct fuse_setattr_in){ .valid = FATTR_UID | FATTR_GID, .uid = 4321, .gid = 8765 };
		ok(t_setattr(e.nodeid, &in, &a) == 0 && a.uid == 4321 && host_stat("attr.txt", &st) == 0 &&
		   st.st_uid == 4321 && st.st_gid == 8765, "SETATTR chown");
	} else {
		ok(1, "# SKIP chown needs root");
	}

	ok(t_open(e.nodeid, O_RDWR, &fh) == 0, "OPEN for FATTR_FH");
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_FH, .fh = fh, .size = 1 };
	ok(t_setattr(e.nodeid, &in, &a) == 0 && host_stat("attr.txt", &st) == 0 && st.st_size == 1,
	   "SETATTR truncate through the file handle");
	in.fh = fh + 12345;
	ok(t_setattr(e.nodeid, &in, NULL) == -EBADF, "SETATTR with a bogus fh: EBADF");
	t_release(e.nodeid, fh);

	struct fuse_access_in ac = { .mask = R_OK };
	in = (struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = 0600 };
	t_setattr(e.nodeid, &in, NULL);
	T->uid = 1000;
	T->gid = 1000;
	tr_begin(T, FUSE_ACCESS, e.nodeid);
	tr_add(T, &ac, sizeof(ac));
	ok(tr_send(T, S) == -EACCES, "ACCESS answers for the guest user, not for the VMM");
	T->uid = T->gid = 0;
	tr_begin(T, FUSE_ACCESS, e.nodeid);
	tr_add(T, &ac, sizeof(ac));
	ok(tr_send(T, S) == 0, "ACCESS for guest root");

	struct fuse_kstatfs *k;
	tr_begin(T, FUSE_STATFS, FUSE_ROOT_ID);
	ok(tr_send(T, S) == 0 && (k = tr_body(T))->bsize > 0 && k->namelen > 0, "STATFS");
}

static void test_xattr(void)
{
	struct fuse_entry_out e;
	char p[PATH_MAX * 2 + 32];

	host_write("x.txt", "x");
	snprintf(p, sizeof(p), "%s/x.txt", share);
	if (setxattr(p, "user.probe", "1", 1, 0) < 0) {
		ok(1, "# SKIP user xattrs unsupported here: %s", strerror(errno));
		return;
	}
	t_lookup(FUSE_ROOT_ID, "x.txt", &e);
	ok(t_setxattr(e.nodeid, "user.test", "value", 5, 0) == 0, "SETXATTR user.test");
	char v[16] = { 0 };
	ok(getxattr(p, "user.test", v, sizeof(v)) == 5 && memcmp(v, "value", 5) == 0,
	   "the host file has it");
	ok(t_setxattr(e.nodeid, "user.test", "v", 1, XATTR_CREATE) == -EEXIST,
	   "SETXATTR XATTR_CREATE of an existing one: EEXIST");
	ok(t_getxattr(e.nodeid, "user.test", 0) == 0 &&
	   ((struct fuse_getxattr_out *)tr_body(T))->size == 5, "GETXATTR size query");
	ok(t_getxattr(e.nodeid, "user.test", 64) == 0 && tr_body_len(T) == 5 &&
	   memcmp(tr_body(T), "value", 5) == 0, "GETXATTR value");
	ok(t_getxattr(e.nodeid, "user.test", 2) == -ERANGE, "GETXATTR into too small a buffer: ERANGE");
	ok(t_getxattr(e.nodeid, NULL, 0) == 0 &&
	   ((struct fuse_getxattr_out *)tr_body(T))->size == sizeof("user.probe\0user.test"),
	   "LISTXATTR size");
	ok(t_getxattr(e.nodeid, NULL, 256) == 0 && tr_body_len(T) == sizeof("user.probe\0user.test") &&
	   memmem(tr_body(T), tr_body_len(T), "user.test", 10), "LISTXATTR names");
	tr_begin(T, FUSE_REMOVEXATTR, e.nodeid);
	tr_str(T, "user.test");
	ok(tr_send(T, S) == 0 && t_getxattr(e.nodeid, "user.test", 64) == -ENODATA,
	   "REMOVEXATTR");
	ok(t_setxattr(e.nodeid, "system.posix_acl_access", "x", 1, 0) == -EOPNOTSUPP,
	   "system.* refused");
	ok(t_setxattr(e.nodeid, "trusted.overlay.redirect", "/x", 2, 0) == 0 &&
	   getxattr(p, "trusted.overlay.redirect", v, sizeof(v)) < 0,
	   "trusted.overlay.* never reaches the host's name (mapped: test-fuse-privs)");
	char *big = calloc(1, 70000);
	ok(t_setxattr(e.nodeid, "user.big", big, 70000, 0) == -E2BIG, "oversized value refused");
	free(big);
}

static void test_misc(void)
{
	tr_begin(T, FUSE_GETLK, FUSE_ROOT_ID);
	ok(tr_send(T, S) == -ENOSYS, "GETLK: ENOSYS");
	tr_begin(T, 9999, FUSE_ROOT_ID);
	ok(tr_send(T, S) == -ENOSYS && T->ret == sizeof(struct fuse_out_header),
	   "unknown opcode: ENOSYS, header-only reply");
	tr_begin(T, FUSE_SYNCFS, FUSE_ROOT_ID);
	tr_add(T, &(uint64_t){ 0 }, 8);
	ok(tr_send(T, S) == 0, "SYNCFS");
}

static void test_readonly(void)
{
	struct fuse_server *rw = S;
	struct fuse_entry_out e;
	struct fuse_setattr_in in = { .valid = FATTR_MODE, .mode = 0777 };
	struct stat st;
	uint64_t fh;
	size_t got;

	S = fixture_server(true);
	ok(S != NULL, "read-only server");
	if (!S) {
		S = rw;
		return;
	}
	t_init();
	host_write("ro.txt", "read only");
	ok(t_lookup(FUSE_ROOT_ID, "ro.txt", &e) == 0, "LOOKUP works read-only");
	ok(t_create(FUSE_ROOT_ID, "new", O_WRONLY, 0644, NULL, NULL) == -EROFS &&
	   host_stat("new", &st) < 0, "CREATE: EROFS");
	ok(t_mkdir(FUSE_ROOT_ID, "d", 0755, NULL) == -EROFS, "MKDIR: EROFS");
	ok(t_mknod(FUSE_ROOT_ID, "n", S_IFIFO | 0644, 0, NULL) == -EROFS, "MKNOD: EROFS");
	ok(t_symlink(FUSE_ROOT_ID, "s", "t", NULL) == -EROFS, "SYMLINK: EROFS");
	ok(t_link(e.nodeid, FUSE_ROOT_ID, "l", NULL) == -EROFS, "LINK: EROFS");
	ok(t_remove(FUSE_UNLINK, FUSE_ROOT_ID, "ro.txt") == -EROFS && host_stat("ro.txt", &st) == 0,
	   "UNLINK: EROFS, file still there");
	ok(t_rename(FUSE_ROOT_ID, "ro.txt", FUSE_ROOT_ID, "x") == -EROFS, "RENAME: EROFS");
	ok(t_setattr(e.nodeid, &in, NULL) == -EROFS, "SETATTR: EROFS");
	ok(t_setxattr(e.nodeid, "user.x", "1", 1, 0) == -EROFS, "SETXATTR: EROFS");
	ok(t_open(e.nodeid, O_WRONLY, NULL) == -EROFS, "OPEN for writing: EROFS");
	ok(t_open(e.nodeid, O_RDONLY | O_TRUNC, NULL) == -EROFS, "OPEN with O_TRUNC: EROFS");
	ok(t_open(e.nodeid, O_RDONLY, &fh) == 0, "OPEN read-only works");
	ok(t_read(e.nodeid, fh, 0, 64, &got) == 0 && got == 9, "READ works");
	ok(t_write(e.nodeid, fh, 0, "x", 1, NULL) == -EROFS, "WRITE: EROFS");
	host_stat("ro.txt", &st);
	ok(st.st_size == 9 && (st.st_mode & 0777) == 0644, "host file untouched");
	fuse_server_free(S);
	S = rw;
}

static void test_session_end(void)
{
	struct fuse_entry_out e;
	uint64_t fh;

	host_write("s.txt", "s");
	t_lookup(FUSE_ROOT_ID, "s.txt", &e);
	t_open(e.nodeid, O_RDONLY, &fh);
	tr_begin(T, FUSE_DESTROY, 0);
	ok(tr_send(T, S) == 0, "DESTROY");
	ok(t_getattr(FUSE_ROOT_ID, NULL) == -EIO, "nothing but INIT after DESTROY");
	ok(t_init() == 0, "INIT again");
	ok(t_getattr(e.nodeid, NULL) == -ESTALE, "old node ids are dead");
	ok(t_read(e.nodeid, fh, 0, 1, NULL) == -EBADF, "old file handles are dead");
	ok(t_getattr(FUSE_ROOT_ID, NULL) == 0, "the root lives on");

	t_lookup(FUSE_ROOT_ID, "s.txt", &e);
	ok(t_init() == 0 && t_getattr(e.nodeid, NULL) == -ESTALE,
	   "an INIT inside a session starts a new one (guest rebooted)");
	fuse_server_reset(S);
	ok(t_getattr(FUSE_ROOT_ID, NULL) == -EIO, "fuse_server_reset ends the session");
	t_init();
}

/* Two servers on one budget of 6 descriptors: at the cap, what needs a new
 * fd fails with ENFILE while known files still work; forgetting a node or
 * releasing a handle makes room again. */
static void test_fd_budget(void)
{
	struct fuse_fd_budget budget = { .max = 6 };
	struct fuse_server_config cfg = { .root = share, .budget = &budget };
	struct fuse_server *saved = S, *s1 = NULL, *s2 = NULL;
	struct fuse_entry_out e[6], e2;
	novm_error_t err = NULL;
	char name[32], path[PATH_MAX + 64];
	uint64_t fh, fh2;

	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "%s/budget%d", share, i);
		close(open(path, O_CREAT | O_WRONLY, 0644));
	}
	if (fuse_server_new(&cfg, &s1, &err) < 0 || fuse_server_new(&cfg, &s2, &err) < 0) {
		ok(0, "fuse_server_new with a budget: %s", err ? err->msg : "?");
		novm_error_release(&err);
		fuse_server_free(s1);
		return;
	}
	S = s1;
	t_init();
	bool all = true;
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "budget%d", i);
		all = all && t_lookup(FUSE_ROOT_ID, name, &e[i]) == 0;
	}
	ok(all && atomic_load(&budget.used) == 4, "four nodes cost four descriptors (%u)",
	   atomic_load(&budget.used));
	ok(t_open(e[0].nodeid, O_RDONLY, &fh) == 0 && atomic_load(&budget.used) == 5,
	   "an open handle costs one more");
	S = s2;
	t_init();
	ok(t_lookup(FUSE_ROOT_ID, "budget4", &e2) == 0 && atomic_load(&budget.used) == 6,
	   "the other share draws on the same budget");
	ok(t_lookup(FUSE_ROOT_ID, "budget5", NULL) == -ENFILE, "at the cap a LOOKUP of a new file: ENFILE");
	ok(t_open(e2.nodeid, O_RDONLY, &fh2) == -ENFILE, "an OPEN: ENFILE");
	ok(t_opendir(FUSE_ROOT_ID, &fh2) == -ENFILE, "an OPENDIR: ENFILE");
	S = s1;
	ok(t_create(FUSE_ROOT_ID, "budget-new", O_RDWR, 0644, NULL, NULL) == -ENFILE &&
	   t_mkdir(FUSE_ROOT_ID, "budget-dir", 0755, NULL) == -ENFILE,
	   "a CREATE, a MKDIR: ENFILE");
	snprintf(path, sizeof(path), "%s/budget-new", share);
	ok(access(path, F_OK) < 0 && errno == ENOENT, "and no file is left behind");
	ok(t_lookup(FUSE_ROOT_ID, "budget1", NULL) == 0 && t_getattr(e[2].nodeid, NULL) == 0,
	   "known files still answer");
	ok(atomic_load(&budget.used) == 6, "failures leave the count at the cap (%u)",
	   atomic_load(&budget.used));

	ok(t_release(e[0].nodeid, fh) == 0 && atomic_load(&budget.used) == 5, "RELEASE gives one back");
	S = s2;
	ok(t_open(e2.nodeid, O_RDONLY, &fh2) == 0, "so the other share opens again");
	ok(t_lookup(FUSE_ROOT_ID, "budget5", NULL) == -ENFILE, "and is at the cap again");
	S = s1;
	t_forget(e[3].nodeid, 1);
	S = s2;
	ok(atomic_load(&budget.used) == 5 && t_lookup(FUSE_ROOT_ID, "budget5", NULL) == 0,
	   "FORGET gives one back, a new LOOKUP takes it");
	/* READDIRPLUS at the cap: names it cannot give a node come without
	 * one (node id 0), so a listing still works. */
	uint64_t dfh;
	size_t got = 0;
	ok(t_release(e2.nodeid, fh2) == 0 && t_opendir(FUSE_ROOT_ID, &dfh) == 0 &&
	   t_read_op(FUSE_READDIRPLUS, FUSE_ROOT_ID, dfh, 0, 65536, &got) == 0,
	   "READDIRPLUS at the cap answers");
	bool seen_known = false, seen_bare = false;
	for (size_t off = 0; off + sizeof(struct fuse_direntplus) <= got;) {
		struct fuse_direntplus *dp = (void *)((char *)tr_body(T) + off);
		const char *nm = dp->dirent.name;
		if (dp->dirent.namelen == 7 && !memcmp(nm, "budget4", 7))
			seen_known = dp->entry_out.nodeid == e2.nodeid;
		if (dp->dirent.namelen == 7 && !memcmp(nm, "budget7", 7))
			seen_bare = dp->entry_out.nodeid == 0 && S_ISREG(dp->entry_out.attr.mode);
		off += FUSE_DIRENTPLUS_SIZE(dp);
	}
	ok(seen_known && seen_bare && atomic_load(&budget.used) == 6,
	   "a known file with its node, a new one without (%d %d)", seen_known, seen_bare);
	fuse_server_free(s2);
	ok(atomic_load(&budget.used) == 3, "a freed server gives back all it held (%u)",
	   atomic_load(&budget.used));
	S = s1;
	fuse_server_reset(s1);
	ok(atomic_load(&budget.used) == 0, "a reset gives back everything");
	fuse_server_free(s1);
	S = saved;

	ok(fuse_fd_budget_for_limit(1u << 20) == (1u << 20) - (1u << 17) &&
	   fuse_fd_budget_for_limit(1024) == 768 && fuse_fd_budget_for_limit(300) == 150 &&
	   fuse_fd_budget_for_limit(1ul << 40) == UINT_MAX - UINT_MAX / 8,
	   "the budget leaves the VMM a reserve of an eighth, at least 256");
}

int main(void)
{
	char base[PATH_MAX];

	if (fixture_begin(base, 300) < 0)
		return 0;
	umask(022);	/* so that exact modes prove the server undoes it */
	T = treq_new();
	S = fixture_server(false);
	ok(S != NULL, "fuse_server_new on %s", share);
	if (S) {
		test_init();
		test_lookup();
		test_file_io();
		test_namespace();
		test_setattr();
		test_xattr();
		test_misc();
		test_readonly();
		test_session_end();
		test_fd_budget();
		fuse_server_free(S);
	}

	struct fuse_server_config bad = { .root = "/nonexistent/novm" };
	struct fuse_server *srv = NULL;
	novm_error_t err = NULL;
	ok(fuse_server_new(&bad, &srv, &err) < 0 && err && strstr(err->msg, "/nonexistent/novm"),
	   "a missing share is a clear error: %s", err ? err->msg : "");
	novm_error_release(&err);

	treq_free(T);
	fixture_cleanup(base);
	return tap_done();
}
