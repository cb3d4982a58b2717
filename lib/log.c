#include "log.h"
#include "capped-file.h"
#include "jsonstr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static int fallback_fd = STDERR_FILENO;	/* without a log file */
static bool log_json, log_debug;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

int log_init(const char *path, const char *format, bool debug, novm_error_t *err)
{
	log_debug = debug;
	if (format && strcmp(format, "text") && strcmp(format, "json"))
		return novm_error(err, 0, "invalid log format `%s`: use text or json", format);
	log_json = format && !strcmp(format, "json");
	if (path && *path) {
		log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log_fd < 0)
			return novm_error(err, errno, "open log file `%s`", path);
	}
	return 0;
}

static void write_line(int fd, enum log_level level, const char *msg)
{
	char *line = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&line, &len);
	char stamp[64];
	struct timeval tv;
	struct tm tm;

	if (!out)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_json) {
		fputs("{\"level\":", out);
		json_write_string(out, level_names[level]);
		fputs(",\"msg\":", out);
		json_write_string(out, msg);
		fprintf(out, ",\"time\":\"%s.%06ldZ\"}\n", stamp, (long)tv.tv_usec);
	} else {
		fprintf(out, "time=\"%sZ\" level=%s msg=", stamp, level_names[level]);
		json_write_string(out, msg);
		fputc('\n', out);
	}
	fclose(out);
	/* capped_write: without --log, this is the capped console log. */
	if (line && capped_write(fd, line, len) < 0) {
		/* Nowhere left to report a failing log. */
	}
	free(line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (level == LOG_LEVEL_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	/* runc's logrus writes to stderr when there is no --log: the same
	 * lines, in the same format. */
	write_line(log_fd >= 0 ? log_fd : fallback_fd, level, msg);
	free(msg);
}

void log_redirect_stderr(int fd)
{
	fallback_fd = fd;
}

void log_error_and_release(novm_error_t *err)
{
	if (!err || !*err)
		return;
	fprintf(stderr, "%s\n", (*err)->msg);
	if (log_fd >= 0)
		write_line(log_fd, LOG_LEVEL_ERROR, (*err)->msg);
	novm_error_release(err);
}
