/* No privilege crosses the share: the xattr name map (privileged names
 * stored under user.novm., the host's own hidden, forgeries escaped). */
#include <sys/xattr.h>

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
}

int main(void)
{
	char base[PATH_MAX];

	alarm(120);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fixture_dir(base, sizeof(base)) < 0) {
		printf("1..0 # SKIP no temp dir: %s\n", strerror(errno));
		return 0;
	}
	umask(022);
	T = treq_new();
	S = fixture_server(false);
	ok(S != NULL, "fuse_server_new on %s", share);
	if (S) {
		ok(t_init() == 0, "INIT");
		test_map();
		fuse_server_free(S);
	}
	treq_free(T);
	fixture_cleanup(base);
	return tap_done();
}
