#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "devnodes.h"
#include "inroot.h"
#include "link.h"
#include "rootspec.h"
#include "util.h"

#define VIRTIOFS "virtiofs"

/* The state of one setup: the root being built and which shares are
 * mounted in the staging area and claimed by an OCI mount. */
struct rootfs_ctx {
	const struct agent_config *cfg;
	int root_fd;		/* O_PATH of ROOTFS_NEW_ROOT */
	bool *share_mounted;
	bool *share_claimed;
	bool *remount_ro;	/* per OCI mount: a tmpfs made read-only last */
};

/* "/dev", "/dev/", "//dev" all name /dev. */
static bool path_is(const char *path, const char *want)
{
	while (*path || *want) {
		while (path[0] == '/' && path[1] == '/')
			path++;
		if (*path == '/' && !path[1] && !*want)
			return true;
		if (*path != *want)
			return false;
		path++;
		want++;
	}
	return true;
}

/* The fd of what is mounted at path now (an fd opened before the mount
 * still points at the directory underneath). */
static int reopen(struct rootfs_ctx *ctx, const char *path, novm_error_t *err)
{
	int fd = inroot_open(ctx->root_fd, path, O_PATH);

	if (fd < 0)
		return novm_error(err, errno, "reopen `%s`", path);
	return fd;
}

static int apply_propagation(struct rootfs_ctx *ctx, const char *path, unsigned long prop,
			     novm_error_t *err)
{
	cleanup_close int fd = -1;
	char buf[32];

	if (!prop)
		return 0;
	fd = reopen(ctx, path, err);
	if (fd < 0)
		return -1;
	if (mount(NULL, inroot_fd_path(fd, buf), NULL, prop, NULL) < 0)
		return novm_error(err, errno, "set propagation of `%s`", path);
	return 0;
}

/* Bind mounts take ro/nosuid/... only from a second, remounting call; the
 * flags the mount already has are kept. */
static int remount_bind(struct rootfs_ctx *ctx, const char *path, unsigned long flags,
			novm_error_t *err)
{
	cleanup_close int fd = -1;
	struct statvfs sv;
	char buf[32];

	if (!flags)
		return 0;
	fd = reopen(ctx, path, err);
	if (fd < 0)
		return -1;
	if (fstatvfs(fd, &sv) == 0) {
		if (sv.f_flag & ST_NOSUID)
			flags |= MS_NOSUID;
		if (sv.f_flag & ST_NODEV)
			flags |= MS_NODEV;
		if (sv.f_flag & ST_NOEXEC)
			flags |= MS_NOEXEC;
		if (sv.f_flag & ST_RDONLY)
			flags |= MS_RDONLY;
	}
	if (mount(NULL, inroot_fd_path(fd, buf), NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return novm_error(err, errno, "remount `%s`", path);
	return 0;
}

/* ---- shares ---- */

static int share_staging_path(const struct agent_share *s, char **out, novm_error_t *err)
{
	if (asprintf(out, "%s/%s", ROOTFS_SHARES_DIR, s->tag) < 0)
		return novm_error(err, ENOMEM, "share %s", s->tag);
	return 0;
}

/* Mounts a share's tag in the staging area (once for all the shares of
 * that tag: agent_share_staging_index) and returns an O_PATH fd of the
 * directory or file to bind: its top or its `path`, resolved inside the
 * share so a symlink there cannot point elsewhere in the guest. */
static int share_source(struct rootfs_ctx *ctx, size_t index, novm_error_t *err)
{
	const struct agent_share *s = &ctx->cfg->shares[index];
	size_t staged = agent_share_staging_index(ctx->cfg, index);
	cleanup_free char *staging = NULL;
	cleanup_close int top = -1;
	int fd;

	if (share_staging_path(s, &staging, err) < 0)
		return -1;
	if (!ctx->share_mounted[staged]) {
		bool ro = agent_share_staging_readonly(ctx->cfg, index);

		if (mkdir_p(staging, 0755, err) < 0)
			return -1;
		if (mount(s->tag, staging, VIRTIOFS, ro ? MS_RDONLY : 0, NULL) < 0)
			return novm_error(err, errno, "mount virtio-fs share `%s`", s->tag);
		ctx->share_mounted[staged] = true;
	}
	top = open(staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return novm_error(err, errno, "open `%s`", staging);
	if (!s->path)
		return steal_fd(&top);
	fd = inroot_open(top, s->path, O_PATH);
	if (fd < 0)
		return novm_error(err, errno, "share `%s`: `%s`", s->tag, s->path);
	return fd;
}

static int bind_share(struct rootfs_ctx *ctx, size_t index, const char *dest,
		      const struct mount_opts *o, novm_error_t *err)
{
	const struct agent_share *s = &ctx->cfg->shares[index];
	cleanup_close int src = -1, target = -1;
	char src_buf[32], target_buf[32];
	unsigned long remount;
	struct stat st;

	src = share_source(ctx, index, err);
	if (src < 0)
		return -1;
	if (fstat(src, &st) < 0)
		return novm_error(err, errno, "share `%s`", s->tag);
	target = inroot_mount_point(ctx->root_fd, dest, S_ISDIR(st.st_mode), err);
	if (target < 0)
		return -1;
	if (mount(inroot_fd_path(src, src_buf), inroot_fd_path(target, target_buf), NULL,
		  MS_BIND | (o->flags & MS_REC), NULL) < 0)
		return novm_error(err, errno, "bind share `%s` on `%s`", s->tag, dest);
	remount = mount_opts_remount_flags(o) | (s->readonly ? MS_RDONLY : 0);
	if (remount_bind(ctx, dest, remount, err) < 0 ||
	    apply_propagation(ctx, dest, o->propagation, err) < 0)
		return -1;
	return 0;
}

/* The share a bind mount stands for: by source when the share names one,
 * else by destination. */
static ssize_t find_share(const struct rootfs_ctx *ctx, const struct oci_mount *m)
{
	const struct agent_config *cfg = ctx->cfg;

	for (size_t i = 0; i < cfg->n_shares; i++) {
		const struct agent_share *s = &cfg->shares[i];

		if (path_is(s->destination, "/"))
			continue;
		if (s->source ? (m->source && strcmp(s->source, m->source) == 0)
			      : path_is(m->destination, s->destination))
			return (ssize_t)i;
	}
	return -1;
}

/* ---- /dev ---- */

static int populate_dev(struct rootfs_ctx *ctx, novm_error_t *err)
{
	cleanup_close int dev = inroot_open(ctx->root_fd, "/dev", O_RDONLY | O_DIRECTORY);

	if (dev < 0)
		return novm_error(err, errno, "open /dev");
	return devnodes_populate(dev, ctx->cfg->spec->process.terminal, err);
}

/* Without a /dev mount in the config the root's own /dev would be a
 * virtio-fs directory, where device nodes cannot be made: give it the
 * tmpfs and devpts runc's default config would. */
static int default_dev(struct rootfs_ctx *ctx, novm_error_t *err)
{
	cleanup_close int dev = -1, pts = -1;
	char buf[32];

	dev = inroot_mount_point(ctx->root_fd, "/dev", true, err);
	if (dev < 0)
		return -1;
	if (mount("tmpfs", inroot_fd_path(dev, buf), "tmpfs", MS_NOSUID | MS_STRICTATIME,
		  "mode=755,size=65536k") < 0)
		return novm_error(err, errno, "mount tmpfs on /dev");
	if (populate_dev(ctx, err) < 0)
		return -1;
	pts = inroot_mount_point(ctx->root_fd, "/dev/pts", true, err);
	if (pts < 0)
		return -1;
	if (mount("devpts", inroot_fd_path(pts, buf), "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
		return novm_error(err, errno, "mount devpts on /dev/pts");
	return 0;
}

/* ---- OCI mounts ---- */

/* runc refuses proc and sysfs on a symlink: a rootfs could point them at
 * a place where masking and read-only paths would miss them. */
static int check_not_symlink(struct rootfs_ctx *ctx, const char *fstype, const char *dest,
			     novm_error_t *err)
{
	cleanup_close int fd = inroot_open(ctx->root_fd, dest, O_PATH | O_NOFOLLOW);
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
		return novm_error(err, 0, "filesystem \"%s\" must be mounted on ordinary directory (`%s` is a symlink)",
				  fstype, dest);
	return 0;
}

static int mount_fs(struct rootfs_ctx *ctx, const struct oci_mount *m, const char *fstype,
		    const struct mount_opts *o, const char *data, bool ro_later,
		    novm_error_t *err)
{
	cleanup_close int target = -1;
	unsigned long flags = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	char buf[32];

	if ((!strcmp(fstype, "proc") || !strcmp(fstype, "sysfs")) &&
	    check_not_symlink(ctx, fstype, m->destination, err) < 0)
		return -1;
	/* Device nodes and mount points are made in a read-only tmpfs
	 * first; it becomes read-only at the end, as runc does. */
	if (ro_later)
		flags &= ~MS_RDONLY;
	target = inroot_mount_point(ctx->root_fd, m->destination, true, err);
	if (target < 0)
		return -1;
	if (mount(m->source ? m->source : fstype, inroot_fd_path(target, buf), fstype, flags,
		  data) < 0)
		return novm_error(err, errno, "mount %s on `%s`", fstype, m->destination);
	return apply_propagation(ctx, m->destination, o->propagation, err);
}

static int mount_one(struct rootfs_ctx *ctx, size_t index, novm_error_t *err)
{
	const struct oci_mount *m = &ctx->cfg->spec->mounts[index];
	struct mount_opts o;
	enum mount_kind kind;
	ssize_t share;
	int r = 0;

	if (mount_opts_parse(m->options.items, m->options.len, &o, err) < 0)
		return novm_error_wrap(err, "mount `%s`", m->destination);
	kind = mount_kind_of(m->type, &o);
	switch (kind) {
	case MOUNT_KIND_BIND:
		share = find_share(ctx, m);
		if (share < 0) {
			agent_log("mounts: no share for the bind mount of `%s` on `%s`: skipped",
				  m->source ? m->source : "", m->destination);
			break;
		}
		ctx->share_claimed[share] = true;
		r = bind_share(ctx, (size_t)share, m->destination, &o, err);
		break;
	case MOUNT_KIND_CGROUP:
		/* The guest kernel runs cgroup v2 only; a v1 entry (runc's
		 * default config) gets the unified hierarchy, as runc gives it
		 * on a v2 host. */
		r = mount_fs(ctx, m, "cgroup2", &o, NULL, false, err);
		if (r < 0) {
			agent_log("mounts: cgroup on `%s` skipped: %s", m->destination,
				  (*err)->msg);
			novm_error_release(err);
			r = 0;
		}
		break;
	default:
		ctx->remount_ro[index] = kind == MOUNT_KIND_TMPFS && (o.flags & MS_RDONLY);
		r = mount_fs(ctx, m, m->type, &o, o.data, ctx->remount_ro[index], err);
		if (r == 0 && kind == MOUNT_KIND_TMPFS && path_is(m->destination, "/dev"))
			r = populate_dev(ctx, err);
		break;
	}
	mount_opts_release(&o);
	return r;
}

/* Shares no OCI mount claimed are the host's own additions. */
static int mount_unclaimed_shares(struct rootfs_ctx *ctx, novm_error_t *err)
{
	const struct mount_opts none = { 0 };

	for (size_t i = 0; i < ctx->cfg->n_shares; i++) {
		const struct agent_share *s = &ctx->cfg->shares[i];

		if (ctx->share_claimed[i] || path_is(s->destination, "/"))
			continue;
		if (bind_share(ctx, i, s->destination, &none, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- after the mounts ---- */

static int set_names(const struct agent_config *cfg, novm_error_t *err)
{
	const char *hostname = cfg->hostname ? cfg->hostname : cfg->spec->hostname;
	const char *domain = cfg->spec->domainname;

	if (hostname && sethostname(hostname, strlen(hostname)) < 0)
		return novm_error(err, errno, "sethostname \"%s\"", hostname);
	if (domain && setdomainname(domain, strlen(domain)) < 0)
		return novm_error(err, errno, "setdomainname \"%s\"", domain);
	return 0;
}

/* Written through the initramfs's /proc: the same kernel, and the
 * container's /proc/sys may be about to become read-only. */
static int write_sysctls(const struct oci_linux *l, novm_error_t *err)
{
	for (size_t i = 0; i < l->n_sysctl; i++) {
		cleanup_free char *rel = NULL, *path = NULL;
		cleanup_close int fd = -1;
		const char *value = l->sysctl[i].value;
		size_t len = strlen(value);

		if (sysctl_key_path(l->sysctl[i].key, &rel, err) < 0)
			return -1;
		if (asprintf(&path, "/proc/sys/%s", rel) < 0)
			return novm_error(err, ENOMEM, "sysctl");
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return novm_error(err, errno, "sysctl %s", l->sysctl[i].key);
		if (write(fd, value, len) != (ssize_t)len)
			return novm_error(err, errno, "sysctl %s=%s", l->sysctl[i].key, value);
	}
	return 0;
}

static int readonly_path(struct rootfs_ctx *ctx, const char *path, novm_error_t *err)
{
	cleanup_close int fd = inroot_open(ctx->root_fd, path, O_PATH);
	char buf[32];

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return novm_error(err, errno, "readonly path `%s`", path);
	}
	inroot_fd_path(fd, buf);
	if (mount(buf, buf, NULL, MS_BIND | MS_REC, NULL) < 0)
		return novm_error(err, errno, "readonly path `%s`: bind", path);
	return remount_bind(ctx, path, MS_RDONLY, err);
}

static int masked_path(struct rootfs_ctx *ctx, const char *path, novm_error_t *err)
{
	cleanup_close int fd = inroot_open(ctx->root_fd, path, O_PATH);
	struct stat st;
	char buf[32];

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return novm_error(err, errno, "masked path `%s`", path);
	}
	if (fstat(fd, &st) < 0)
		return novm_error(err, errno, "masked path `%s`", path);
	inroot_fd_path(fd, buf);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", buf, "tmpfs", MS_RDONLY, NULL) < 0)
			return novm_error(err, errno, "masked path `%s`", path);
	} else if (mount("/dev/null", buf, NULL, MS_BIND, NULL) < 0) {
		return novm_error(err, errno, "masked path `%s`", path);
	}
	return 0;
}

static int remount_tmpfs_ro(struct rootfs_ctx *ctx, const struct oci_mount *m,
			    novm_error_t *err)
{
	cleanup_close int fd = reopen(ctx, m->destination, err);
	struct mount_opts o;
	char buf[32];
	int r = 0;

	if (fd < 0)
		return -1;
	if (mount_opts_parse(m->options.items, m->options.len, &o, err) < 0)
		return novm_error_wrap(err, "mount `%s`", m->destination);
	if (mount(NULL, inroot_fd_path(fd, buf), NULL,
		  MS_REMOUNT | (o.flags & ~(MS_BIND | MS_REC | MS_REMOUNT)), o.data) < 0)
		r = novm_error(err, errno, "remount `%s` read-only", m->destination);
	mount_opts_release(&o);
	return r;
}

static int setup(struct rootfs_ctx *ctx, novm_error_t *err)
{
	const struct agent_config *cfg = ctx->cfg;
	const struct oci_spec *spec = cfg->spec;
	const struct agent_share *root = agent_config_root_share(cfg);
	const char *tag = root ? root->tag : AGENT_ROOT_TAG;
	bool dev_in_config = false;

	if (mkdir_p(ROOTFS_NEW_ROOT, 0755, err) < 0)
		return -1;
	/* Read-write even for a read-only root (root.readonly, or a root share
	 * the host marks read-only): missing mount points are made first and
	 * the root is remounted read-only at the end, as runc does.  Whatever
	 * the host really forbids, its virtio-fs server refuses anyway. */
	if (root && root->path) {
		/* A pod container's: one graft of a device other shares use. */
		cleanup_close int src = share_source(ctx, (size_t)(root - cfg->shares), err);
		char buf[32];

		if (src < 0)
			return novm_error_wrap(err, "the root");
		if (mount(inroot_fd_path(src, buf), ROOTFS_NEW_ROOT, NULL, MS_BIND, NULL) < 0)
			return novm_error(err, errno, "bind the root (`%s` of virtio-fs tag `%s`)",
					  root->path, tag);
	} else if (mount(tag, ROOTFS_NEW_ROOT, VIRTIOFS, 0, NULL) < 0) {
		return novm_error(err, errno, "mount the root (virtio-fs tag `%s`)", tag);
	}
	ctx->root_fd = open(ROOTFS_NEW_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->root_fd < 0)
		return novm_error(err, errno, "open `%s`", ROOTFS_NEW_ROOT);

	for (size_t i = 0; i < spec->n_mounts; i++)
		dev_in_config |= path_is(spec->mounts[i].destination, "/dev");
	if (!dev_in_config && default_dev(ctx, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (mount_one(ctx, i, err) < 0)
			return -1;
	if (mount_unclaimed_shares(ctx, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->linux_.n_devices; i++)
		if (devnodes_create(ctx->root_fd, &spec->linux_.devices[i], err) < 0)
			return -1;

	/* The init's cwd is made now, while the root may still be written
	 * (runc does the same); exec sessions make theirs if they can. */
	if (spec->process.cwd) {
		int fd = inroot_mkdirs(ctx->root_fd, spec->process.cwd, 0755, err);

		if (fd < 0)
			return novm_error_wrap(err, "process.cwd");
		close(fd);
	}
	if (set_names(cfg, err) < 0 || write_sysctls(&spec->linux_, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->linux_.readonly_paths.len; i++)
		if (readonly_path(ctx, spec->linux_.readonly_paths.items[i], err) < 0)
			return -1;
	for (size_t i = 0; i < spec->linux_.masked_paths.len; i++)
		if (masked_path(ctx, spec->linux_.masked_paths.items[i], err) < 0)
			return -1;
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (ctx->remount_ro[i] && remount_tmpfs_ro(ctx, &spec->mounts[i], err) < 0)
			return -1;
	if ((spec->root.readonly || (root && root->readonly)) &&
	    mount(NULL, ROOTFS_NEW_ROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return novm_error(err, errno, "remount the root read-only");
	return 0;
}

int rootfs_setup(const struct agent_config *cfg, novm_error_t *err)
{
	struct rootfs_ctx ctx = { .cfg = cfg, .root_fd = -1 };
	size_t n = cfg->n_shares ? cfg->n_shares : 1;
	int r;

	ctx.share_mounted = calloc(n, sizeof(bool));
	ctx.share_claimed = calloc(n, sizeof(bool));
	ctx.remount_ro = calloc(cfg->spec->n_mounts + 1, sizeof(bool));
	if (!ctx.share_mounted || !ctx.share_claimed || !ctx.remount_ro)
		r = novm_error(err, ENOMEM, "rootfs");
	else
		r = setup(&ctx, err);
	if (ctx.root_fd >= 0)
		close(ctx.root_fd);
	free(ctx.share_mounted);
	free(ctx.share_claimed);
	free(ctx.remount_ro);
	if (r < 0)
		return novm_error_wrap(err, "rootfs");
	return 0;
}

/* The initramfs's own mounts would stay in the container's mount
 * namespace under its root: out of path reach, but a fully visible /proc
 * or /sys there lets a user namespace in the container mount a fresh,
 * unmasked one.  Only the container's own mounts may remain. */
static int detach_initramfs_mounts(const struct agent_config *cfg, novm_error_t *err)
{
	static const char *const own[] = { "/sys", "/proc", "/dev" };

	for (size_t i = 0; i < cfg->n_shares; i++) {
		cleanup_free char *staging = NULL;

		if (share_staging_path(&cfg->shares[i], &staging, err) < 0)
			return -1;
		if (umount2(staging, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			return novm_error(err, errno, "detach `%s`", staging);
	}
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (umount2(own[i], MNT_DETACH) < 0 && errno != EINVAL)
			return novm_error(err, errno, "detach the initramfs's `%s`", own[i]);
	return 0;
}

int rootfs_switch(const struct agent_config *cfg, novm_error_t *err)
{
	if (detach_initramfs_mounts(cfg, err) < 0)
		return -1;
	if (chdir(ROOTFS_NEW_ROOT) < 0)
		return novm_error(err, errno, "chdir `%s`", ROOTFS_NEW_ROOT);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return novm_error(err, errno, "move `%s` over /", ROOTFS_NEW_ROOT);
	if (chroot(".") < 0)
		return novm_error(err, errno, "chroot");
	if (chdir("/") < 0)
		return novm_error(err, errno, "chdir /");
	return 0;
}
