/* The capped console log: many writes (the UART's lines, the VMM's log
 * lines) keep the file under its cap, the newest output stays at its end,
 * and a descriptor that is not a regular file (novm boot's stdout) is never
 * capped. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capped-file.h"
#include "cleanup.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#define CAP 8192

static off_t size_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* Every line after the note is "line N" with N counting up to last. */
static bool lines_consecutive(const char *text, int last)
{
	static const char note[] = "[console log capped at 8192 bytes: older output dropped]\n";
	const char *p = strchr(text, '\n');
	int prev = -1;

	if (strncmp(text, note, strlen(note)) || !p)
		return false;
	for (p++; *p; p = strchr(p, '\n') + 1) {
		int n;
		if (sscanf(p, "line %d\n", &n) != 1 || (prev >= 0 && n != prev + 1))
			return false;
		prev = n;
	}
	return prev == last;
}

static void test_many_lines(const char *path)
{
	/* Write-only, as create.c opens console.log. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	off_t biggest = 0;
	bool all_written = true;
	char line[32];

	capped_file_set(fd, CAP);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		all_written &= capped_write(fd, line, (size_t)n) == 0;
		if (size_of(fd) > biggest)
			biggest = size_of(fd);
	}
	ok(all_written, "5000 lines written");
	ok(biggest <= CAP && biggest > CAP / 2, "the file stayed under its cap (largest %lld)",
	   (long long)biggest);
	cleanup_free char *text = NULL;
	size_t len = 0;
	ok(read_file(path, &text, &len, NULL) == 0 && len == (size_t)size_of(fd), "read back");
	ok(text && len > 12 && !strcmp(text + len - 10, "line 4999\n"), "the newest line is last");
	ok(text && lines_consecutive(text, 4999),
	   "a note, then whole lines with none missing up to the newest");

	/* The VMM's log lines (without --log) go through the same cap. */
	log_redirect_stderr(fd);
	for (int i = 0; i < 500; i++)
		log_msg(LOG_LEVEL_WARNING, "warning %d from the VMM", i);
	ok(size_of(fd) <= CAP, "log lines are capped too (%lld)", (long long)size_of(fd));
	free(text);
	text = NULL;
	ok(read_file(path, &text, &len, NULL) == 0 && strstr(text, "warning 499 from the VMM"),
	   "the newest log line is kept");
	log_redirect_stderr(STDERR_FILENO);

	/* One write bigger than the cap keeps its own tail. */
	static char big[3 * CAP];
	memset(big, 'x', sizeof(big));
	memcpy(big + sizeof(big) - 5, "\nend\n", 5);
	ok(capped_write(fd, big, sizeof(big)) == 0 && size_of(fd) <= CAP, "a huge write stays capped");
	free(text);
	text = NULL;
	ok(read_file(path, &text, &len, NULL) == 0 && len > 4 && !strcmp(text + len - 4, "end\n"),
	   "... and ends with its last bytes");
	capped_file_set(-1, 0);
	close(fd);
}

static void test_not_a_file(void)
{
	int p[2];
	static char chunk[CAP], back[3 * CAP];
	size_t got = 0;

	if (pipe(p) < 0)
		return;
	/* A pipe (novm boot's stdout): never rewritten, every byte goes. */
	capped_file_set(p[1], CAP);
	memset(chunk, 'y', sizeof(chunk));
	bool all = true;
	for (int i = 0; i < 3; i++)
		all &= capped_write(p[1], chunk, sizeof(chunk)) == 0;
	close(p[1]);
	for (ssize_t n; (n = read(p[0], back + got, sizeof(back) - got)) > 0;)
		got += (size_t)n;
	close(p[0]);
	ok(all && got == sizeof(back), "a pipe is not capped: %zu bytes of %zu", got, sizeof(back));
	capped_file_set(-1, 0);
}

int main(void)
{
	char dir[] = "/tmp/novm-test-capped-XXXXXX", path[64];

	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/console.log", dir);
	test_many_lines(path);
	test_not_a_file();
	remove_tree(dir, NULL);
	return tap_done();
}
