/* The VMM's DNS relay against a stand-in resolver at 127.0.0.1:53 in a
 * network namespace of the test's own: our ids on the wire are random (not
 * a sequence another process could follow), distinct while in flight, and
 * answers go back to the guest with its own id and tag; an answer with an
 * id we did not send is dropped. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "channel/dns-forward.h"
#include "kvm.h"
#include "proto/agent.h"
#include "tap.h"

#define QUERIES 100

static atomic_int answers, wrong;

static void on_answer(void *opaque, uint32_t tag, const uint8_t *msg, size_t len)
{
	(void)opaque;
	/* The tag (little-endian) first, then the message with the guest's id. */
	if (len < 4 + 12 || tag >= QUERIES || msg[0] != (uint8_t)tag || msg[4] != 0x42 ||
	    msg[5] != 0x43 || msg[4 + 12] != (uint8_t)tag)
		atomic_fetch_add(&wrong, 1);
	atomic_fetch_add(&answers, 1);
}

static bool lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 &&
		  (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) == 0);

	if (s >= 0)
		close(s);
	return up;
}

static void wait_answers(int want)
{
	for (int i = 0; i < 200 && atomic_load(&answers) < want; i++)
		usleep(10000);
}

int main(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	uint8_t msgs[QUERIES][64];
	size_t lens[QUERIES];
	uint16_t ids[QUERIES];
	novm_error_t err = NULL;
	struct dns_forward *fwd = NULL;
	static struct vm vm;
	int srv;

	if (unshare(CLONE_NEWNET) < 0 || !lo_up()) {
		printf("1..0 # SKIP no network namespace of our own: %s\n", strerror(errno));
		return 0;
	}
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ok(srv >= 0 && bind(srv, (struct sockaddr *)&sin, sizeof(sin)) == 0, "stand-in resolver");
	ok(ioloop_init(&vm.loop, &err) == 0 &&
	   dns_forward_new(&vm, "127.0.0.1", on_answer, NULL, &fwd, &err) == 0 &&
	   ioloop_start(&vm.loop, &err) == 0,
	   "relay up: %s", err ? err->msg : "");
	if (!fwd)
		return tap_done();

	int got = 0;
	for (int i = 0; i < QUERIES; i++) {
		uint8_t q[4 + 13] = { (uint8_t)i, 0, 0, 0, 0x42, 0x43, 1, 0, 0, 1 };
		q[4 + 12] = (uint8_t)i;
		dns_forward_query(fwd, q, sizeof(q));
		struct pollfd p = { .fd = srv, .events = POLLIN };
		if (poll(&p, 1, 2000) != 1)
			break;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(srv, msgs[i], sizeof(msgs[i]), 0, (struct sockaddr *)&from, &fl);
		if (n != 13 || msgs[i][12] != (uint8_t)i)
			break;
		lens[i] = (size_t)n;
		ids[i] = (uint16_t)(msgs[i][0] << 8 | msgs[i][1]);
		/* Answers go back to where the query came from. */
		if (i == 0)
			connect(srv, (struct sockaddr *)&from, fl);
		got++;
	}
	ok(got == QUERIES, "the resolver got %d queries", got);

	int same = 0, steps = 0;
	for (int i = 0; i < got; i++)
		for (int j = i + 1; j < got; j++)
			same += ids[i] == ids[j];
	for (int i = 1; i < got; i++)
		steps += (uint16_t)(ids[i] - ids[i - 1]) == 1;
	ok(same == 0, "ids in flight are distinct");
	ok(steps <= 2, "ids do not count up (%d steps of one)", steps);
	ok(got > 2 && !(ids[0] == 0x4243 && ids[1] == 0x4243), "ours, not the guest's");

	/* A forged answer with an id we did not send is dropped. */
	uint8_t forged[13];
	memcpy(forged, msgs[0], sizeof(forged));
	uint16_t bad = ids[0];
	for (bool taken = true; taken;) {
		bad++;
		taken = false;
		for (int i = 0; i < got; i++)
			taken |= ids[i] == bad;
	}
	forged[0] = (uint8_t)(bad >> 8);
	forged[1] = (uint8_t)bad;
	send(srv, forged, sizeof(forged), 0);
	for (int i = got - 1; i >= 0; i--)
		send(srv, msgs[i], lens[i], 0);
	wait_answers(got);
	usleep(50000);
	ok(atomic_load(&answers) == got && atomic_load(&wrong) == 0,
	   "every answer reached the guest with its id and tag, the forged one none (%d, %d wrong)",
	   atomic_load(&answers), atomic_load(&wrong));
	send(srv, msgs[0], lens[0], 0);
	usleep(50000);
	ok(atomic_load(&answers) == got, "a second answer to the same query is dropped");

	dns_forward_free(fwd);
	ioloop_stop(&vm.loop);
	close(srv);
	return tap_done();
}
