#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "procinfo.h"
#include "util.h"

#define HWRNG_CURRENT_PATH "/sys/class/misc/hw_random/rng_current"
#define HWRNG_DEV_PATH "/dev/hwrng"
#define RNG_SAMPLE_BYTES 32
/* virtio-rng may register after its module has loaded, and the device may
 * take a moment to answer its first request. */
#define HWRNG_WAIT_MS 2000
#define RNG_READ_WAIT_MS 2000
#define POLL_INTERVAL_MS 20

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void report_uname(void)
{
	struct utsname u;

	if (uname(&u) < 0) {
		agent_say("uname: error %s", strerror(errno));
		return;
	}
	agent_say("uname: %s %s %s %s %s", u.sysname, u.nodename, u.release, u.version,
		  u.machine);
}

static void report_cpus(void)
{
	cleanup_free char *text = NULL;
	novm_error_t err = NULL;

	if (read_file("/proc/cpuinfo", &text, NULL, &err) < 0) {
		agent_say("cpus: error %s", err->msg);
		novm_error_release(&err);
		return;
	}
	agent_say("cpus: %u", cpuinfo_count_processors(text));
}

static void report_memory(void)
{
	cleanup_free char *text = NULL;
	novm_error_t err = NULL;
	long long kib;

	if (read_file("/proc/meminfo", &text, NULL, &err) < 0) {
		agent_say("mem_total_kib: error %s", err->msg);
		novm_error_release(&err);
		return;
	}
	kib = meminfo_get_kib(text, "MemTotal");
	if (kib < 0)
		agent_say("mem_total_kib: error no MemTotal in /proc/meminfo");
	else
		agent_say("mem_total_kib: %lld", kib);
}

/* Returns the trimmed contents of rng_current, or NULL if unreadable. */
static char *read_hwrng_current(void)
{
	char *text = NULL;
	size_t len;
	novm_error_t err = NULL;

	if (read_file(HWRNG_CURRENT_PATH, &text, &len, &err) < 0) {
		novm_error_release(&err);
		return NULL;
	}
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	return text;
}

static void report_hwrng(void)
{
	int64_t deadline = monotonic_ms() + HWRNG_WAIT_MS;
	cleanup_free char *current = NULL;

	for (;;) {
		free(current);
		current = read_hwrng_current();
		if (current && current[0] && strcmp(current, "none") != 0)
			break;
		if (monotonic_ms() >= deadline)
			break;
		sleep_ms(POLL_INTERVAL_MS);
	}
	agent_say("hwrng: %s", current && current[0] ? current : "none");
}

/* Reads exactly len bytes from the hardware RNG.  Non-blocking with
 * polling because a blocking read of /dev/hwrng waits killably only, and
 * PID 1 must not hang forever on a device that never answers. */
static int read_hwrng(uint8_t *buf, size_t len)
{
	int64_t deadline = monotonic_ms() + RNG_READ_WAIT_MS;
	cleanup_close int fd = open(HWRNG_DEV_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r > 0) {
			got += r;
			continue;
		}
		if (r == 0)
			return -EIO;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (monotonic_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(POLL_INTERVAL_MS / 2);
	}
	return 0;
}

static void report_rng(void)
{
	uint8_t sample[RNG_SAMPLE_BYTES];
	char hex[2 * RNG_SAMPLE_BYTES + 1];
	int r = read_hwrng(sample, sizeof(sample));

	if (r < 0) {
		agent_say("rng: error %s", strerror(-r));
		return;
	}
	hex_encode(sample, sizeof(sample), hex);
	agent_say("rng: %s", hex);
}

void report_system(void)
{
	report_uname();
	report_cpus();
	report_memory();
	report_hwrng();
	report_rng();
}
