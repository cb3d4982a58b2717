#include "capped-file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#define MIN_CAP 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int capped_fd = -1;
/* The writer's descriptor may be write-only (console.log is): the newest
 * output is read back through a descriptor of our own. */
static int read_fd = -1;
static uint64_t capped_max;

void capped_file_set(int fd, uint64_t cap)
{
	struct stat st;
	char proc[64];

	pthread_mutex_lock(&lock);
	if (read_fd >= 0)
		close(read_fd);
	read_fd = -1;
	capped_fd = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fd : -1;
	capped_max = cap < MIN_CAP ? MIN_CAP : cap;
	if (capped_fd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		read_fd = open(proc, O_RDONLY | O_CLOEXEC);
	}
	pthread_mutex_unlock(&lock);
}

/* Rewrites the file as a note plus the newest half of (file + data),
 * starting at a line; the offset moves to the new end.  Best effort: the
 * console is not worth failing over, but it never grows past the cap. */
static int compact(int fd, uint64_t size, const char *data, size_t len)
{
	char note[96];
	int note_len = snprintf(note, sizeof(note),
				"[console log capped at %llu bytes: older output dropped]\n",
				(unsigned long long)capped_max);
	size_t keep = capped_max / 2;
	size_t from_data = len < keep ? len : keep;
	size_t from_file = keep - from_data > size ? size : keep - from_data;
	cleanup_free char *buf = malloc(from_file + from_data);
	size_t got = 0;

	if (buf) {
		/* Without a read descriptor, only data's own tail is kept. */
		while (read_fd >= 0 && got < from_file) {
			ssize_t n = pread(read_fd, buf + got, from_file - got, size - from_file + got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += n;
		}
		memcpy(buf + got, data + len - from_data, from_data);
		got += from_data;
	}
	/* Start at a whole line, unless the kept part is one line. */
	const char *start = buf, *nl = buf ? memchr(buf, '\n', got) : NULL;
	if (nl && nl + 1 < buf + got) {
		got -= nl + 1 - buf;
		start = nl + 1;
	}
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    write_all(fd, note, (size_t)note_len) < 0)
		return -1;
	return start ? write_all(fd, start, got) : 0;
}

int capped_write(int fd, const void *data, size_t len)
{
	struct stat st;
	int r;

	pthread_mutex_lock(&lock);
	if (fd < 0 || fd != capped_fd) {
		pthread_mutex_unlock(&lock);
		return write_all(fd, data, len);
	}
	/* The file's real size: other descriptors of it may have written. */
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size + len > capped_max)
		r = compact(fd, (uint64_t)st.st_size, data, len);
	else
		r = write_all(fd, data, len);
	pthread_mutex_unlock(&lock);
	return r;
}
