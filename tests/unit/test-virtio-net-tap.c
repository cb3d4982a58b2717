/* virtio-net on a real tap, without KVM: in a network namespace of its own
 * (skipped without CAP_NET_ADMIN or /dev/net/tun), the test makes a tap,
 * checks tap_open's errors, then drives the device with the fake driver: a
 * UDP datagram the guest sends reaches a host socket, and the ARP request
 * the host's answer needs reaches the guest's buffers with a sane vnet
 * header.  Proves the ioctls (vnet header size, offloads a driver accepted)
 * and the frame format against the kernel's own tap. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "cleanup.h"
#include "tap.h"
#include "virtio-driver.h"
#include "vmm/devices/pci.h"
#include "vmm/kvm.h"
#include "vmm/tuntap.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/pci.h"

#define RAM_SIZE (16ULL << 20)
#define RING_GPA 0x100000ULL
#define BUF_GPA 0x200000ULL
#define QSIZE 32
#define HDR VIRTIO_NET_HDR_LEN
#define F(bit) (1ULL << (bit))
#define TAP "novmut0"
#define PORT 7077

static const uint8_t guest_mac[6] = { 0x02, 0x00, 0x5e, 0x77, 0x00, 0x02 };

/* A tap nobody is attached to, as `ip tuntap add` leaves it. */
static int make_tap(const char *name, short kind)
{
	struct ifreq ifr = { .ifr_flags = kind | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	strcpy(ifr.ifr_name, name);
	int ret = ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0 ? -1 : 0;
	close(fd);
	return ret;
}

/* 10.0.78.1/24, up; returns the tap's MAC in mac. */
static int configure(const char *name, uint8_t mac[6])
{
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	strcpy(ifr.ifr_name, name);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.78.1", &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -1;
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + UDP (no checksum) from 10.0.78.2 to 10.0.78.1:PORT. */
static size_t build_udp(uint8_t *f, const uint8_t dst_mac[6], const char *payload)
{
	size_t plen = strlen(payload), ip_len = 20 + 8 + plen;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8), ip[3] = (uint8_t)ip_len;
	ip[8] = 64, ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "10.0.78.2", ip + 12);
	inet_pton(AF_INET, "10.0.78.1", ip + 16);
	uint16_t c = ip_checksum(ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	uint8_t *udp = ip + 20;
	udp[0] = 0x1f, udp[1] = 0x90;	/* source port 8080 */
	udp[2] = PORT >> 8, udp[3] = PORT & 0xff;
	udp[4] = (uint8_t)((8 + plen) >> 8), udp[5] = (uint8_t)(8 + plen);
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, payload, plen);
	return 14 + ip_len;
}

static void test_open_errors(void)
{
	novm_error_t err = NULL;
	int fd = -1;

	ok(tap_open("novmnosuch", &fd, &err) < 0 && err && strstr(err->msg, "no such network interface"),
	   "a missing tap: %s", err ? err->msg : "no error");
	novm_error_release(&err);
	ok(if_nametoindex("novmnosuch") == 0, "and none is created");
	ok(make_tap("novmtun0", IFF_TUN) == 0, "a tun interface made");
	ok(tap_open("novmtun0", &fd, &err) < 0 && err && strstr(err->msg, "not a single-queue tap"),
	   "a tun is not a tap: %s", err ? err->msg : "no error");
	novm_error_release(&err);
	ok(tap_open("a/b", &fd, &err) < 0 && err && strstr(err->msg, "not a valid interface name"),
	   "a name with a slash is refused");
	novm_error_release(&err);
	ok(tap_open("0123456789abcdefg", &fd, &err) < 0 && err, "a name too long is refused");
	novm_error_release(&err);

	/* What a NIC's fd handed over may be. */
	int pipe_fds[2];
	ok(pipe2(pipe_fds, O_CLOEXEC) == 0 && tap_check_fd(pipe_fds[0], &err) < 0 && err &&
	   strstr(err->msg, "is not an attached tun/tap device"), "a pipe is no tap: %s",
	   err ? err->msg : "accepted");
	novm_error_release(&err);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	cleanup_close int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "novmtun0");
	ok(tun >= 0 && ioctl(tun, TUNSETIFF, &ifr) == 0 && tap_check_fd(tun, &err) < 0 && err &&
	   strstr(err->msg, "not a tap with vnet headers"), "a tun is no tap: %s",
	   err ? err->msg : "accepted");
	novm_error_release(&err);
}

int main(void)
{
	novm_error_t err = NULL;
	struct vm vm;
	uint8_t *ram, tap_mac[6];
	int fd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/dev/net/tun", R_OK | W_OK) < 0 || unshare(CLONE_NEWNET) < 0 ||
	    make_tap(TAP, IFF_TAP) < 0) {
		printf("1..0 # SKIP no /dev/net/tun or no network namespace of our own: %s\n",
		       strerror(errno));
		return 0;
	}
	test_open_errors();
	ok(tap_open(TAP, &fd, &err) == 0, "tap_open of an existing tap");
	ok(fd >= 0 && tap_check_fd(fd, &err) == 0, "tap_check_fd takes what tap_open gives");
	{
		cleanup_close int again = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "novmblk0");
		ok(again >= 0 && ioctl(again, TUNSETIFF, &ifr) == 0 && tap_check_fd(again, &err) < 0 &&
		   err && strstr(err->msg, "not non-blocking"), "a blocking tap is refused: %s",
		   err ? err->msg : "accepted");
		novm_error_release(&err);
	}
	if (err) {
		novm_error_print(&err, "test-virtio-net-tap");
		return tap_done();
	}
	ok(configure(TAP, tap_mac) == 0, "tap up with 10.0.78.1/24");
	cleanup_close int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in host = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	inet_pton(AF_INET, "10.0.78.1", &host.sin_addr);
	ok(bind(udp, (struct sockaddr *)&host, sizeof(host)) == 0, "host socket on 10.0.78.1:%d", PORT);

	if (fake_vm_init(&vm, &ram, RAM_SIZE, &err) < 0 || pci_init(&vm, &err) < 0) {
		novm_error_print(&err, "test-virtio-net-tap");
		return 1;
	}
	struct virtio_net_config_host cfg = { .fd = fd };
	memcpy(cfg.mac, guest_mac, 6);
	struct virtio_net *net;
	ok(virtio_net_init(&vm, &cfg, &net, &err) == 0, "virtio-net on the tap");
	ok(ioloop_start(&vm.loop, &err) == 0, "I/O loop running");
	struct drv_device dev = { .vm = &vm, .ram = ram, .ring_gpa = RING_GPA, .queue_size = QSIZE };
	dev.bar = drv_find_bar(&vm, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
	struct drv_queue queues[2], *rxq = &queues[0], *txq = &queues[1];
	uint64_t features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) |
			    F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) |
			    F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			    F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_HOST_TSO4);
	ok(drv_setup_features(&dev, queues, 2, features),
	   "driver up with every offload: the tap took TUNSETOFFLOAD");

	/* Guest to host. */
	uint64_t gpa[2] = { BUF_GPA, BUF_GPA + 0x1000 };
	memset(ram + gpa[0], 0, HDR);
	uint32_t len[2] = { HDR, (uint32_t)build_udp(ram + gpa[1], tap_mac, "from the guest") };
	drv_add_chain(txq, gpa, len, 2, 2);
	drv_publish(&dev, txq);
	ok(drv_wait_used(txq, 1), "transmit chain returned");
	char got[64] = { 0 };
	struct pollfd p = { .fd = udp, .events = POLLIN };
	ok(poll(&p, 1, 3000) == 1 && recv(udp, got, sizeof(got) - 1, 0) == 14 &&
		   !strcmp(got, "from the guest"),
	   "the host socket got the guest's datagram");

	/* Host to guest: answering needs the guest's MAC, so ARP asks. */
	for (int i = 0; i < 8; i++) {
		uint64_t b = BUF_GPA + 0x10000 + 0x1000ULL * i;
		uint32_t l = 2048;
		drv_add_chain(rxq, &b, &l, 1, 0);
	}
	drv_publish(&dev, rxq);
	struct sockaddr_in guest = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	inet_pton(AF_INET, "10.0.78.2", &guest.sin_addr);
	sendto(udp, "x", 1, 0, (struct sockaddr *)&guest, sizeof(guest));
	bool arp = false, sane = true;
	for (int tries = 0; tries < 30 && !arp; tries++) {
		usleep(100000);
		for (uint16_t i = 0; i < drv_used_idx(rxq) && !arp; i++) {
			struct vring_used_elem e = drv_used_elem(rxq, i);
			const uint8_t *b = ram + rxq->desc[e.id].addr;
			if (e.len < HDR + 14 || (b[10] | b[11] << 8) != 1)
				sane = false;
			else if (b[HDR + 12] == 0x08 && b[HDR + 13] == 0x06 &&
				 !memcmp(b + HDR + 14 + 24, (uint8_t[]){ 10, 0, 78, 2 }, 4))
				arp = true;
		}
	}
	ok(arp, "the host's ARP request for 10.0.78.2 reached the guest's buffers");
	ok(sane, "every frame with a header and num_buffers 1");

	ioloop_stop(&vm.loop);
	virtio_net_exit(net);
	pci_exit(&vm);
	fake_vm_destroy(&vm, ram);
	return tap_done();
}
