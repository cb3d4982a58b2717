#ifndef NOVM_UTIL_H
#define NOVM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t monotonic_ms(void);

/* Where the last `lines` lines of text[0..len) begin (a final newline does
 * not start an empty line). */
size_t text_tail(const char *text, size_t len, int lines);

/* Reads a whole file into a NUL-terminated heap buffer. */
int read_file(const char *path, char **out, size_t *len, novm_error_t *err);

/* Writes all of data through short writes and EINTR: 0, or -1 with errno.
 * send_all uses send(MSG_NOSIGNAL), so a socket whose peer left fails with
 * EPIPE instead of raising SIGPIPE. */
int write_all(int fd, const void *data, size_t len);
int send_all(int fd, const void *data, size_t len);

/* Writes through a temporary file and rename(), so readers never see a
 * partial file.  The temporary file has a random name and is created
 * O_EXCL|O_NOFOLLOW, and rename() replaces a symlink at path rather than
 * following it: a symlink planted at either name is never written through. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      novm_error_t *err);

/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, novm_error_t *err);

/* rm -rf of a directory tree, not following symlinks. */
int remove_tree(const char *path, novm_error_t *err);

/* Copies a file (used to stage kernels into the store). */
int copy_file(const char *src, const char *dst, mode_t mode, novm_error_t *err);

/* Writes s for a terminal: C0 controls, DEL, C1 controls (U+0080 to
 * U+009F) and bytes that are not UTF-8 as \xNN, so that text from a guest
 * cannot move the cursor, retitle a window or fake a line. */
void fputs_escaped(const char *s, FILE *out);

/* 1 to max bytes of [A-Za-z0-9._-], not "." or "..": a name that is safe
 * as one path component (virtio-fs tags, graft names). */
bool name_is_plain(const char *name, size_t max);

/* Starts fn(arg) in a detached thread with every signal blocked: signals
 * belong to the threads that wait for them (a VMM's signalfd and vCPUs),
 * never to a helper thread whose default action would end the process.
 * 0, or the error number. */
int thread_start_detached(void *(*fn)(void *), void *arg);

/* Runs fn(opaque, err) in a forked child, for work that must not change the
 * caller (setns into another namespace): 0 if it returned 0, else -1 with
 * its error's message (or "<what> failed" when it had none). */
int fork_call(int (*fn)(void *opaque, novm_error_t *err), void *opaque, const char *what,
	      novm_error_t *err);

#endif
