#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

int read_file(const char *path, char **out, size_t *len, novm_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t used = 0, cap = 0;

	if (fd < 0)
		return novm_error(err, errno, "open `%s`", path);
	for (;;) {
		if (cap - used < 4096) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *n = realloc(buf, ncap + 1);
			if (!n)
				return novm_error(err, ENOMEM, "read `%s`", path);
			buf = n;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + used, cap - used);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return novm_error(err, errno, "read `%s`", path);
		}
		if (r == 0)
			break;
		used += r;
	}
	if (!buf && !(buf = malloc(1)))
		return novm_error(err, ENOMEM, "read `%s`", path);
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = steal_pointer(&buf);
	return 0;
}

/* write(2) or send(2): the loop is the same. */
static int put_all(int fd, const void *data, size_t len, bool sock)
{
	const char *p = data;

	while (len) {
		ssize_t w = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			/* Not for len > 0; never spin on it. */
			errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int write_all(int fd, const void *data, size_t len)
{
	return put_all(fd, data, len, false);
}

int send_all(int fd, const void *data, size_t len)
{
	return put_all(fd, data, len, true);
}

/* A fresh sibling of path for write_file_atomic.  The name is random and
 * the open exclusive and not following symlinks, so a file or symlink that
 * someone planted in the directory (a pid file's directory may be shared) is
 * never opened or written through: such a name is skipped for another. */
static int create_temp_sibling(const char *path, mode_t mode, char **tmp_out,
			       novm_error_t *err)
{
	static unsigned counter;

	for (int attempt = 0; attempt < 100; attempt++) {
		cleanup_free char *tmp = NULL;
		uint64_t r = 0;

		/* Unpredictable; the counter only keeps names apart if
		 * getrandom fails. */
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = ((uint64_t)getpid() << 32) ^ (uint64_t)monotonic_ms() ^ ++counter;
		if (asprintf(&tmp, "%s.tmp.%016" PRIx64, path, r) < 0)
			return novm_error(err, ENOMEM, "write `%s`", path);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0) {
			*tmp_out = steal_pointer(&tmp);
			return fd;
		}
		if (errno != EEXIST)
			return novm_error(err, errno, "create `%s`", tmp);
	}
	return novm_error(err, EEXIST, "create a temporary file for `%s`", path);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      novm_error_t *err)
{
	cleanup_free char *tmp = NULL;
	cleanup_close int fd = create_temp_sibling(path, mode, &tmp, err);

	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return novm_error(err, e, "write `%s`", tmp);
	}
	/* rename() replaces a symlink at path; it never follows it. */
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return novm_error(err, e, "rename `%s` to `%s`", tmp, path);
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode, novm_error_t *err)
{
	cleanup_free char *p = strdup(path);
	if (!p)
		return novm_error(err, ENOMEM, "mkdir `%s`", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return novm_error(err, errno, "mkdir `%s`", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return novm_error(err, errno, "mkdir `%s`", p);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path, novm_error_t *err)
{
	if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return novm_error(err, errno, "remove `%s`", path);
	return 0;
}

int copy_file(const char *src, const char *dst, mode_t mode, novm_error_t *err)
{
	cleanup_free char *data = NULL;
	size_t len;

	if (read_file(src, &data, &len, err) < 0)
		return -1;
	return write_file_atomic(dst, data, len, mode, err);
}

int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The length of the UTF-8 sequence at p, 0 when it is not one (overlong
 * forms and surrogates included). */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void fputs_escaped(const char *s, FILE *out)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);

		if (!n || *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0)) {
			fprintf(out, "\\x%02x", *p++);
			continue;
		}
		fwrite(p, 1, n, out);
		p += n;
	}
}

size_t text_tail(const char *text, size_t len, int lines)
{
	size_t at = len;

	if (at && text[at - 1] == '\n')
		at--;
	while (at > 0) {
		if (text[at - 1] == '\n' && --lines <= 0)
			return at;
		at--;
	}
	return 0;
}

int thread_start_detached(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int fork_call(int (*fn)(void *opaque, novm_error_t *err), void *opaque, const char *what,
	      novm_error_t *err)
{
	cleanup_close int rd = -1, wr = -1;
	int p[2], status = 0, w;
	char msg[1024];
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return novm_error(err, errno, "%s: pipe", what);
	rd = p[0];
	wr = p[1];
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return novm_error(err, errno, "%s: fork", what);
	if (pid == 0) {
		novm_error_t failure = NULL;

		close(rd);
		if (fn(opaque, &failure) < 0) {
			const char *why = failure ? failure->msg : "";

			if (write(wr, why, strnlen(why, sizeof(msg) - 1)) < 0) {
				/* the parent learns it failed all the same */
			}
			_exit(1);
		}
		_exit(0);
	}
	close(steal_fd(&wr));
	do
		n = read(rd, msg, sizeof(msg) - 1);
	while (n < 0 && errno == EINTR);
	msg[n > 0 ? n : 0] = '\0';
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return msg[0] ? novm_error(err, 0, "%s", msg) : novm_error(err, 0, "%s failed", what);
	return 0;
}

bool name_is_plain(const char *name, size_t max)
{
	size_t len = strlen(name);

	if (len == 0 || len > max || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	       len;
}
