/* No privilege crosses the share: the xattr name map (privileged names
 * stored under user.novm., the host's own hidden, forgeries escaped, the
 * host file's own security.capability readable but not removable), and
 * setuid/setgid bits killed on write, truncate and chown, and held to the
 * kernel's rules for a caller that is not root. */
#include <sys/xattr.h>

#include <linux/capability.h>

#include "fuse-client.h"

static char p[PATH_MAX * 2 + 32];	/* the host path of x.txt */

static ssize_t host_getxattr(const char *name, char *v, size_t cap)
{
	return getxattr(p, name, v, cap);
}

/* Whether the LISTXATTR reply (in tr_body) holds exactly the names of
 * `want` (NUL-separated, sizeof of a literal), in any order. */
static bool list_is(const char *want, size_t len)
{
	const char *got = tr_body(T);
	size_t n = tr_body_len(T), count = 0;

	if (n != len)
		return false;
	for (size_t pos = 0; pos < n; pos += strlen(got + pos) + 1, count++) {
		bool found = false;
		for (size_t w = 0; w < len; w += strlen(want + w) + 1)
			found |= strcmp(got + pos, want + w) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* chown in the fixture: failing it fails the checks that follow. */
static void host_chmod(const char *path, mode_t mode)
{
	if (chmod(path, mode) < 0)
		printf("# chmod %s: %s\n", path, strerror(errno));
}

static void host_chown(const char *path, uid_t uid, gid_t gid)
{
	if (chown(path, uid, gid) < 0)
		printf("# chown %s: %s\n", path, strerror(errno));
}

static void test_map(void)
{
	struct fuse_entry_out e;
	char v[64] = { 0 }, name[300];

	host_write("x.txt", "x");
	snprintf(p, sizeof(p), "%s/x.txt", share);
	if (setxattr(p, "user.probe", "1", 1, 0) < 0 || removexattr(p, "user.probe") < 0) {
		ok(1, "# SKIP user xattrs unsupported here: %s", strerror(errno));
		return;
	}
	t_lookup(FUSE_ROOT_ID, "x.txt", &e);

	ok(t_setxattr(e.nodeid, "security.capability", "cap", 3, 0) == 0,
	   "SETXATTR security.capability");
	ok(host_getxattr("user.novm.security.capability", v, sizeof(v)) == 3 &&
	   host_getxattr("security.capability", v, sizeof(v)) < 0,
	   "the host has only user.novm.security.capability");
	ok(t_getxattr(e.nodeid, "security.capability", 64) == 0 && tr_body_len(T) == 3 &&
	   memcmp(tr_body(T), "cap", 3) == 0, "GETXATTR security.capability reads it back");
	ok(t_setxattr(e.nodeid, "trusted.overlay.redirect", "/y", 2, 0) == 0 &&
	   host_getxattr("user.novm.trusted.overlay.redirect", v, sizeof(v)) == 2 &&
	   host_getxattr("trusted.overlay.redirect", v, sizeof(v)) < 0,
	   "trusted.overlay.* works for the guest, stored as user.novm.trusted.overlay.*");
	ok(t_setxattr(e.nodeid, "trusted.x", "t", 1, 0) == 0 &&
	   host_getxattr("user.novm.trusted.x", v, sizeof(v)) == 1, "trusted.x mapped");
	ok(t_setxattr(e.nodeid, "user.overlay.opaque", "y", 1, 0) == 0 &&
	   host_getxattr("user.novm.user.overlay.opaque", v, sizeof(v)) == 1 &&
	   host_getxattr("user.overlay.opaque", v, sizeof(v)) < 0,
	   "user.overlay.* mapped like trusted.overlay.*");
	ok(t_setxattr(e.nodeid, "user.novm.security.capability", "f", 1, 0) == 0 &&
	   host_getxattr("user.novm.user.novm.security.capability", v, sizeof(v)) == 1 &&
	   host_getxattr("user.novm.security.capability", v, sizeof(v)) == 3,
	   "a guest user.novm.* is escaped: it cannot forge a mapped name");
	ok(t_getxattr(e.nodeid, "user.novm.security.capability", 64) == 0 && tr_body_len(T) == 1 &&
	   memcmp(tr_body(T), "f", 1) == 0, "and reads back as itself");
	ok(t_setxattr(e.nodeid, "user.plain", "pp", 2, 0) == 0 &&
	   host_getxattr("user.plain", v, sizeof(v)) == 2, "other user.* pass as they are");

	/* The host's own names: none reachable, none listed. */
	setxattr(p, "user.novm.host-own", "h", 1, 0);
	setxattr(p, "user.overlay.host", "h", 1, 0);
	setxattr(p, "trusted.host", "h", 1, 0);	/* root only; absent otherwise */
	ok(t_getxattr(e.nodeid, "trusted.host", 64) == -ENODATA,
	   "GETXATTR trusted.host does not reach the host's trusted.host");
	ok(t_getxattr(e.nodeid, "user.overlay.host", 64) == -ENODATA,
	   "nor user.overlay.host the host's");
	ok(t_getxattr(e.nodeid, "user.novm.host-own", 64) == -ENODATA,
	   "nor user.novm.host-own the host's");
	const char want[] = "security.capability\0trusted.overlay.redirect\0trusted.x\0"
			    "user.overlay.opaque\0user.novm.security.capability\0user.plain";
	ok(t_getxattr(e.nodeid, NULL, 0) == 0 &&
	   ((struct fuse_getxattr_out *)tr_body(T))->size == sizeof(want),
	   "LISTXATTR size query gives the mapped size (%u)",
	   ((struct fuse_getxattr_out *)tr_body(T))->size);
	ok(t_getxattr(e.nodeid, NULL, 4096) == 0 && list_is(want, sizeof(want)),
	   "LISTXATTR maps back and hides the host's own names");
	ok(t_getxattr(e.nodeid, NULL, sizeof(want) - 1) == -ERANGE,
	   "LISTXATTR one byte short of the mapped size: ERANGE");
	ok(t_getxattr(e.nodeid, "security.capability", 0) == 0 &&
	   ((struct fuse_getxattr_out *)tr_body(T))->size == 3, "GETXATTR size query of a mapped name");

	tr_begin(T, FUSE_REMOVEXATTR, e.nodeid);
	tr_str(T, "trusted.x");
	ok(tr_send(T, S) == 0 && host_getxattr("user.novm.trusted.x", v, sizeof(v)) < 0,
	   "REMOVEXATTR removes the mapped name");
	tr_begin(T, FUSE_REMOVEXATTR, e.nodeid);
	tr_str(T, "user.novm.host-own");
	ok(tr_send(T, S) == -ENODATA && host_getxattr("user.novm.host-own", v, sizeof(v)) == 1,
	   "REMOVEXATTR of a host user.novm.* name leaves it");

	/* Hostile names. */
	ok(t_setxattr(e.nodeid, "", "x", 1, 0) == -ERANGE, "empty name: ERANGE");
	ok(t_setxattr(e.nodeid, "noprefix", "x", 1, 0) == -EOPNOTSUPP,
	   "a name without a namespace: EOPNOTSUPP");
	ok(t_setxattr(e.nodeid, "user", "x", 1, 0) == -EOPNOTSUPP &&
	   t_setxattr(e.nodeid, "trusted", "x", 1, 0) == -EOPNOTSUPP,
	   "bare namespace words: EOPNOTSUPP");
	ok(t_setxattr(e.nodeid, "system.posix_acl_access", "x", 1, 0) == -EOPNOTSUPP,
	   "system.posix_acl_* refused as before (ACLs not negotiated)");
	memset(name, 'a', sizeof(name));
	memcpy(name, "trusted.", 8);
	name[245] = '\0';
	ok(t_setxattr(e.nodeid, name, "x", 1, 0) == 0, "a 245-byte mapped name fits (255 on the host)");
	name[245] = 'a';
	name[246] = '\0';
	ok(t_setxattr(e.nodeid, name, "x", 1, 0) == -ERANGE, "a 246-byte mapped name: ERANGE");
	memcpy(name, "user.aa", 7);
	name[246] = 'a';
	name[255] = '\0';
	ok(t_setxattr(e.nodeid, name, "x", 1, 0) == 0, "a 255-byte user.* name passes");
	name[255] = 'a';
	name[256] = '\0';
	ok(t_setxattr(e.nodeid, name, "x", 1, 0) == -ERANGE, "a 256-byte name: ERANGE");
	tr_begin(T, FUSE_REMOVEXATTR, e.nodeid);
	tr_str(T, "user.novm.");
	ok(tr_send(T, S) == -ENODATA, "user.novm. alone is just an escaped name");
	t_forget(e.nodeid, 1);

	/* The host keeps user.* names on files and directories only. */
	ok(t_symlink(FUSE_ROOT_ID, "ln", "x.txt", &e) == 0, "SYMLINK ln");
	ok(t_setxattr(e.nodeid, "trusted.overlay.origin", "o", 1, 0) == -EOPNOTSUPP,
	   "a mapped name on a symlink: EOPNOTSUPP (overlayfs then works without)");
	ok(t_setxattr(e.nodeid, "user.plain", "u", 1, 0) == -EPERM,
	   "a plain user.* name there: the host's EPERM, as a local file system");
	t_forget(e.nodeid, 1);
}

static mode_t host_mode(const char *rel)
{
	struct stat st;
	return host_stat(rel, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static int write_flags(uint64_t nodeid, uint64_t fh, uint32_t flags)
{
	struct fuse_write_in in = { .fh = fh, .size = 1, .write_flags = flags };
	tr_begin(T, FUSE_WRITE, nodeid);
	tr_add(T, &in, sizeof(in));
	tr_add(T, "w", 1);
	return tr_send(T, S);
}

static void test_killpriv(void)
{
	struct fuse_entry_out e;
	struct fuse_setattr_in sa;
	struct stat st;
	char v[8];
	uint64_t fh = 0;

	if (geteuid() != 0) {
		ok(1, "# SKIP killpriv needs root (files owned by other uids)");
		return;
	}
	host_write("s", "data");
	snprintf(p, sizeof(p), "%s/s", share);
	host_chown(p, 1000, 1000);
	t_lookup(FUSE_ROOT_ID, "s", &e);
	T->uid = T->gid = 1000;
	ok(t_open(e.nodeid, O_RDWR, &fh) == 0, "OPEN s as its owner");

	chmod(p, 06755);
	ok(write_flags(e.nodeid, fh, 0) == 0 && host_mode("s") == 0755,
	   "WRITE by a user that is not root clears S_ISUID and group-exec S_ISGID (0%o)",
	   host_mode("s"));
	chmod(p, 02745);
	ok(write_flags(e.nodeid, fh, 0) == 0 && host_mode("s") == 02745,
	   "S_ISGID without group exec (locking mark) stays");
	T->uid = T->gid = 0;
	chmod(p, 06755);
	ok(write_flags(e.nodeid, fh, 0) == 0 && host_mode("s") == 06755,
	   "WRITE by root (CAP_FSETID) keeps them");
	setxattr(p, "user.novm.security.capability", "c", 1, 0);
	ok(write_flags(e.nodeid, fh, FUSE_WRITE_KILL_SUIDGID) == 0 && host_mode("s") == 0755 &&
	   getxattr(p, "user.novm.security.capability", v, sizeof(v)) < 0,
	   "WRITE with FUSE_WRITE_KILL_SUIDGID: bits and the mapped capability gone");
	t_release(e.nodeid, fh);

	chmod(p, 06755);
	setxattr(p, "user.novm.security.capability", "c", 1, 0);
	sa = (struct fuse_setattr_in){ .valid = FATTR_UID | FATTR_GID, .uid = 1001, .gid = 1001 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && host_mode("s") == 0755 &&
	   getxattr(p, "user.novm.security.capability", v, sizeof(v)) < 0,
	   "chown by root kills setuid, setgid and the mapped capability (0%o)", host_mode("s"));
	chmod(p, 06755);
	sa = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_KILL_SUIDGID, .size = 1 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && host_mode("s") == 0755,
	   "truncate with FATTR_KILL_SUIDGID kills them");
	chmod(p, 06755);
	sa = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_KILL_SUIDGID | FATTR_MODE,
				       .size = 1, .mode = S_IFREG | 04755 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && host_mode("s") == 04755,
	   "with a mode sent along, the mode wins");

	/* chown's and chmod's rules are the guest kernel's (CAP_CHOWN, a user
	 * namespace's root, supplementary groups): what it lets through is
	 * done as asked. */
	T->uid = T->gid = 1000;
	sa = (struct fuse_setattr_in){ .valid = FATTR_UID, .uid = 1000 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && host_stat("s", &st) == 0 && st.st_uid == 1000,
	   "a chown by a user that is not root is done as asked");
	host_chown(p, 1000, 1000);
	sa = (struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = S_IFREG | 06755 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && host_mode("s") == 06755,
	   "chmod u+s,g+s of its own file in its group");
	host_chown(p, 1000, 2000);
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && host_mode("s") == 06755,
	   "S_ISGID kept outside its primary group (a supplementary one, 0%o)", host_mode("s"));
	sa = (struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = S_IFREG | 0755 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && host_mode("s") == 0755,
	   "clearing the setuid bits (the guest's kill on another's write)");
	T->uid = T->gid = 2000;
	host_chmod(p, 06755);
	ok(t_open(e.nodeid, O_RDWR | O_TRUNC, &fh) == 0 && host_mode("s") == 06755,
	   "OPEN with O_TRUNC alone keeps them");
	t_release(e.nodeid, fh);
	struct fuse_open_in oi = { .flags = O_RDWR | O_TRUNC, .open_flags = FUSE_OPEN_KILL_SUIDGID };
	tr_begin(T, FUSE_OPEN, e.nodeid);
	tr_add(T, &oi, sizeof(oi));
	ok(tr_send(T, S) == 0 && host_mode("s") == 0755, "OPEN O_TRUNC with FUSE_OPEN_KILL_SUIDGID kills them");
	t_release(e.nodeid, ((struct fuse_open_out *)tr_body(T))->fh);
	T->uid = T->gid = 0;
	t_forget(e.nodeid, 1);
}

static int t_removexattr(uint64_t nodeid, const char *name)
{
	tr_begin(T, FUSE_REMOVEXATTR, nodeid);
	tr_str(T, name);
	return tr_send(T, S);
}

/* Whether the LISTXATTR reply (in tr_body) names `name` exactly `times`. */
static bool listed(const char *name, int times)
{
	const char *got = tr_body(T);
	size_t n = tr_body_len(T);
	int count = 0;

	for (size_t pos = 0; pos < n; pos += strlen(got + pos) + 1)
		count += strcmp(got + pos, name) == 0;
	return count == times;
}

/* A v2 file capability: cap_net_raw+ep, as on ping. */
static const struct vfs_cap_data real_cap = {
	.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
	.data = { { .permitted = 1u << CAP_NET_RAW } },
};

/* Gives the host file p a real security.capability, as an image extracted
 * on the host has; false (with the reason) where it cannot be set. */
static bool set_real_cap(void)
{
	if (setxattr(p, "security.capability", &real_cap, XATTR_CAPS_SZ_2, 0) < 0) {
		printf("# setxattr security.capability on %s: %s\n", p, strerror(errno));
		return false;
	}
	return true;
}

static bool has_real_cap(void)
{
	struct vfs_cap_data v;
	return getxattr(p, "security.capability", &v, sizeof(v)) == XATTR_CAPS_SZ_2 &&
	       memcmp(&v, &real_cap, XATTR_CAPS_SZ_2) == 0;
}

static bool has_mapped_cap(void)
{
	return getxattr(p, "user.novm.security.capability", NULL, 0) >= 0;
}

/* The host file's own security.capability (set on the host, not by the
 * guest) shows through the map for reading only. */
static void test_real_cap(void)
{
	struct fuse_entry_out e;
	struct fuse_setattr_in sa;
	char v[64];
	uint64_t fh;

	if (geteuid() != 0) {
		ok(1, "# SKIP a real security.capability needs root");
		return;
	}
	host_write("ping", "ping");
	snprintf(p, sizeof(p), "%s/ping", share);
	host_chmod(p, 0755);
	if (!set_real_cap() || setxattr(p, "user.plain", "u", 1, 0) < 0) {
		ok(1, "# SKIP no security.capability or user xattrs on this file system (%s)", share);
		return;
	}
	t_lookup(FUSE_ROOT_ID, "ping", &e);

	ok(t_getxattr(e.nodeid, "security.capability", 64) == 0 &&
	   tr_body_len(T) == XATTR_CAPS_SZ_2 && memcmp(tr_body(T), &real_cap, XATTR_CAPS_SZ_2) == 0,
	   "GETXATTR security.capability without a mapped one reads the host file's own");
	ok(t_getxattr(e.nodeid, "security.capability", 0) == 0 &&
	   ((struct fuse_getxattr_out *)tr_body(T))->size == XATTR_CAPS_SZ_2,
	   "and its size query gives the real one's size");
	ok(t_getxattr(e.nodeid, NULL, 4096) == 0 && listed("security.capability", 1) &&
	   listed("user.plain", 1), "LISTXATTR shows the real security.capability");
	const char want[] = "security.capability\0user.plain";
	ok(t_getxattr(e.nodeid, NULL, 0) == 0 &&
	   ((struct fuse_getxattr_out *)tr_body(T))->size == sizeof(want),
	   "LISTXATTR's size query counts it");
	ok(t_setxattr(e.nodeid, "security.capability", "g", 1, XATTR_CREATE) == -EEXIST &&
	   !has_mapped_cap(), "SETXATTR XATTR_CREATE: EEXIST, as the guest sees one");

	ok(t_setxattr(e.nodeid, "security.capability", "guest", 5, XATTR_REPLACE) == 0 &&
	   getxattr(p, "user.novm.security.capability", v, sizeof(v)) == 5 && has_real_cap(),
	   "SETXATTR XATTR_REPLACE writes the mapped name only, the real one untouched");
	ok(t_getxattr(e.nodeid, "security.capability", 64) == 0 && tr_body_len(T) == 5 &&
	   memcmp(tr_body(T), "guest", 5) == 0, "GETXATTR then reads the mapped one");
	ok(t_getxattr(e.nodeid, NULL, 4096) == 0 && listed("security.capability", 1),
	   "LISTXATTR shows security.capability once with both on the host");
	ok(t_setxattr(e.nodeid, "security.capability", "again", 5, XATTR_CREATE) == -EEXIST,
	   "XATTR_CREATE over the mapped one: EEXIST");
	ok(t_removexattr(e.nodeid, "security.capability") == 0 && !has_mapped_cap() &&
	   !has_real_cap(), "REMOVEXATTR removes the mapped one and the real one under it");
	ok(t_getxattr(e.nodeid, "security.capability", 64) == -ENODATA,
	   "after which the guest sees none (no capability left behind by setcap -r)");
	set_real_cap();
	ok(t_removexattr(e.nodeid, "security.capability") == 0 && !has_real_cap(),
	   "REMOVEXATTR of the real one alone removes it (privilege only lowered)");
	ok(t_getxattr(e.nodeid, "security.capability", 64) == -ENODATA &&
	   t_removexattr(e.nodeid, "security.capability") == -ENODATA,
	   "then the guest sees none, and removing again is ENODATA");
	set_real_cap();

	/* Other mapped names never fall back to the host's own. */
	if (setxattr(p, "security.novm-test", "s", 1, 0) == 0)
		ok(t_getxattr(e.nodeid, "security.novm-test", 64) == -ENODATA &&
		   t_getxattr(e.nodeid, NULL, 4096) == 0 && listed("security.novm-test", 0),
		   "another security.* of the host's is neither read nor listed");
	else
		ok(1, "# SKIP security.novm-test on the host: %s", strerror(errno));
	setxattr(p, "trusted.capability", "t", 1, 0);
	ok(t_getxattr(e.nodeid, "trusted.capability", 64) == -ENODATA,
	   "nor does trusted.* (only security.capability falls back)");

	/* Killpriv and the real capability: the server never strips it, the
	 * host kernel does when the file changes, root or not. */
	ok(t_open(e.nodeid, O_RDWR, &fh) == 0, "OPEN ping as root");
	sa = (struct fuse_setattr_in){ .valid = FATTR_KILL_SUIDGID };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && has_real_cap(),
	   "a kill flag that changes nothing leaves the real capability");
	setxattr(p, "user.novm.security.capability", "m", 1, 0);
	ok(write_flags(e.nodeid, fh, FUSE_WRITE_KILL_SUIDGID) == 0 && !has_mapped_cap() &&
	   !has_real_cap(), "WRITE with FUSE_WRITE_KILL_SUIDGID: the mapped one goes, and the host "
	   "kernel drops the real one");
	set_real_cap();
	ok(write_flags(e.nodeid, fh, 0) == 0 && !has_real_cap(),
	   "WRITE by root without flags: the host kernel drops the real one all the same");
	ok(t_getxattr(e.nodeid, "security.capability", 64) == -ENODATA,
	   "and the guest sees none");
	set_real_cap();
	sa = (struct fuse_setattr_in){ .valid = FATTR_SIZE, .size = 2 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && !has_real_cap(),
	   "truncate by root: dropped by the host kernel");
	set_real_cap();
	sa = (struct fuse_setattr_in){ .valid = FATTR_UID | FATTR_GID, .uid = 0, .gid = 0 };
	ok(t_setattr(e.nodeid, &sa, NULL) == 0 && !has_real_cap(),
	   "chown (even to the same owner): dropped by the host kernel");
	t_release(e.nodeid, fh);
	t_forget(e.nodeid, 1);
}

static void test_create_modes(void)
{
	struct fuse_entry_out e;
	struct stat st;
	char dp[PATH_MAX * 2 + 32];

	if (geteuid() != 0) {
		ok(1, "# SKIP creation modes need root (chown)");
		return;
	}
	T->uid = T->gid = 1000;
	ok(t_create(FUSE_ROOT_ID, "mine", O_RDWR | O_CREAT | O_EXCL, 06755, &e, NULL) == 0 &&
	   host_mode("mine") == 06755 && host_stat("mine", &st) == 0 && st.st_uid == 1000,
	   "a user creates a setuid file of its own");
	ok(t_mkdir(FUSE_ROOT_ID, "sg", 02777, &e) == 0 && host_mode("sg") == 02777,
	   "a setgid directory of its own");
	snprintf(dp, sizeof(dp), "%s/sg", share);
	host_chown(dp, 1000, 3000);	/* a group the user is not (primarily) in */
	ok(t_create(e.nodeid, "f", O_RDWR | O_CREAT | O_EXCL, 02755, NULL, NULL) == 0 &&
	   host_mode("sg/f") == 02755 && host_stat("sg/f", &st) == 0 && st.st_gid == 3000,
	   "in it a file gets the directory's group, and the S_ISGID the guest kernel left it");
	ok(t_mkdir(e.nodeid, "d", 0755, NULL) == 0 && host_mode("sg/d") == 02755,
	   "a directory inherits S_ISGID");
	ok(t_mknod(e.nodeid, "n", S_IFREG | 06644, 0, NULL) == 0 && host_mode("sg/n") == 06644,
	   "MKNOD the same (0%o)", host_mode("sg/n"));
	T->uid = T->gid = 0;
	ok(t_create(FUSE_ROOT_ID, "rootsuid", O_RDWR | O_CREAT | O_EXCL, 06755, NULL, NULL) == 0 &&
	   host_mode("rootsuid") == 06755, "root creates what it asks for");
}

int main(void)
{
	char base[PATH_MAX];

	if (fixture_begin(base, 120) < 0)
		return 0;
	umask(022);
	T = treq_new();
	S = fixture_server(false);
	ok(S != NULL, "fuse_server_new on %s", share);
	if (S) {
		ok(t_init() == 0, "INIT");
		test_map();
		test_killpriv();
		test_real_cap();
		test_create_modes();
		fuse_server_free(S);
	}
	treq_free(T);
	fixture_cleanup(base);
	return tap_done();
}
