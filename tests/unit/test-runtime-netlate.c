/* start's side of links added between create and start (runtime/net-late.c)
 * without a VM: a process in a network namespace of its own stands in for
 * the VMM, with a veth there as ctr's CNI would leave it, and the fake
 * control socket takes the nics request.  Needs root (namespaces, taps) and
 * iproute2's ip; skipped otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "cleanup.h"
#include "tap.h"
#include "test-runtime-fake-vmm.h"
#include "runtime/netconf.h"
#include "runtime/proc.h"
#include "util.h"

static char dir[] = "/tmp/novm-test-netlate-XXXXXX";
static const char *answer = "ok {}";

static const char *reply(const char *request)
{
	(void)request;
	return answer;
}

/* A stand-in VMM: a namespace of its own with eth0 (10.9.0.2/24, default
 * route via .1) and, made after it (a veth's peer is registered first),
 * its peer peer0: a link beyond the one spare.  *redirects: whether the
 * kernel has the matchall classifier and mirred action net_connect uses.
 * -1 when the namespace cannot be made. */
static pid_t fake_vmm_process(bool *redirects)
{
	int ready[2];
	char c;

	if (pipe(ready) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		/* Gone with the test, even if it crashes: its stdout is the TAP
		 * driver's pipe, which make check waits on. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0 ||
		    system("ip link add peer0 type veth peer name eth0 && ip link set peer0 up && "
			   "ip addr add 10.9.0.2/24 dev eth0 && ip link set eth0 up && "
			   "ip route add default via 10.9.0.1") != 0)
			_exit(1);
		c = system("tc qdisc add dev peer0 ingress && tc filter add dev peer0 ingress matchall "
			   "action mirred egress redirect dev eth0 2>/dev/null") == 0 ? 'm' : 'r';
		if (system("tc qdisc del dev peer0 ingress 2>/dev/null") < 0 || write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	*redirects = c == 'm';
	return pid;
}

/* `tc qdisc show dev eth0 ingress` in pid's namespace: whether one is there. */
static bool has_ingress(pid_t pid)
{
	char cmd[128], line[256] = "";

	snprintf(cmd, sizeof(cmd), "nsenter --net=/proc/%d/ns/net tc qdisc show dev eth0 ingress", (int)pid);
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	bool found = fgets(line, sizeof(line), p) && strstr(line, "ingress");
	pclose(p);
	return found;
}

static void close_nics_fds(struct fake_vmm *f)
{
	for (int i = 0; i < f->nics_nfds; i++)
		close(f->nics_fds[i]);
	f->nics_nfds = 0;
	f->nics_json[0] = '\0';
}

int main(void)
{
	struct fake_vmm f;
	novm_error_t err = NULL;
	uint64_t start_time = 0;

	if (geteuid() != 0 || system("ip -V >/dev/null 2>&1 && tc -V >/dev/null 2>&1") != 0 ||
	    access("/dev/net/tun", R_OK | W_OK) < 0) {
		printf("1..0 # SKIP needs root, iproute2 and /dev/net/tun\n");
		return 0;
	}
	if (!mkdtemp(dir) || fake_vmm_start(&f, dir, reply) < 0)
		return 99;
	bool redirects = false;
	pid_t vmm = fake_vmm_process(&redirects);
	if (vmm < 0) {
		printf("1..0 # SKIP cannot make a network namespace with a veth\n");
		return 0;
	}
	proc_start_time(vmm, &start_time);

	ok(net_start_links(dir, vmm, start_time, &err) == 0 && f.n_requests == 0,
	   "a VM without spares: nothing asked of the VMM");
	novm_error_release(&err);

	ok(net_record_spares(dir, 1, &err) == 0, "create recorded one spare");
	novm_error_release(&err);
	uint64_t own_start = 0;
	proc_start_time(getpid(), &own_start);
	ok(net_start_links(dir, getpid(), own_start, &err) < 0 &&
		   strstr(err->msg, "in our own network namespace") && f.n_requests == 0,
	   "a VMM in our own namespace is refused: %s", err ? err->msg : "");
	novm_error_release(&err);
	ok(net_start_links(dir, vmm, start_time + 1, &err) < 0 && strstr(err->msg, "is gone") &&
		   f.n_requests == 0,
	   "a pid that is not the VMM any more is refused: %s", err ? err->msg : "");
	novm_error_release(&err);

	if (!redirects) {
		/* This kernel cannot plumb a link: what fails must leave nothing. */
		ok(net_start_links(dir, vmm, start_time, &err) < 0 && strstr(err->msg, "connect link eth0") &&
			   f.n_requests == 0,
		   "a link that cannot be redirected: an error, nothing asked: %s", err ? err->msg : "");
		novm_error_release(&err);
		ok(!has_ingress(vmm), "and no ingress qdisc is left on eth0");
		printf("ok %d # SKIP the hand-over: the kernel has no matchall classifier or mirred "
		       "action\n", ++tap_n);
		goto out;
	}
	/* The link takes the spare: its tap goes to the VMM with the plan. */
	int r = net_start_links(dir, vmm, start_time, &err);
	ok(r == 0, "the links handed over: %s", err ? err->msg : "");
	novm_error_release(&err);
	char request[64] = "";
	snprintf(request, sizeof(request), "nics %zu", strlen(f.nics_json));
	ok(f.n_requests == 1 && !strcmp(fake_last(&f), request), "one request: %s", fake_last(&f));
	ok(strstr(f.nics_json, "\"name\":\"eth0\"") && strstr(f.nics_json, "\"10.9.0.2/24\"") &&
		   strstr(f.nics_json, "\"device_mac\":\"02:6e:6f:76:6d:00\"") &&
		   strstr(f.nics_json, "\"destination\":\"0.0.0.0/0\",\"gateway\":\"10.9.0.1\"") &&
		   !strstr(f.nics_json, "peer0") && !strstr(f.nics_json, "dns_relay"),
	   "the document: eth0 on the spare, its address and route, nothing of peer0");
	struct ifreq ifr = { 0 };
	ok(f.nics_nfds == 1 && ioctl(f.nics_fds[0], TUNGETIFF, &ifr) == 0 &&
		   !strncmp(ifr.ifr_name, "novmtap", 7) && (ifr.ifr_flags & IFF_TAP),
	   "one fd: a tap of ours (%s)", ifr.ifr_name);
	ok(!if_nametoindex(ifr.ifr_name), "the tap is not in our namespace");
	ok(has_ingress(vmm), "eth0 is redirected to the tap");
	close_nics_fds(&f);

	/* The VMM refuses: eth0 is the namespace's again. */
	answer = "error 1 links for 0 spare NICs";
	r = net_start_links(dir, vmm, start_time, &err);
	ok(r < 0 && strstr(err->msg, "1 links for 0 spare NICs"), "the VMM's refusal: %s",
	   err ? err->msg : "");
	novm_error_release(&err);
	ok(!has_ingress(vmm), "and no redirect is left on eth0");
	close_nics_fds(&f);
out:
	kill(vmm, SIGKILL);
	waitpid(vmm, NULL, 0);
	fake_vmm_stop(&f);
	remove_tree(dir, NULL);
	return tap_done();
}
