/* virtio-net without KVM: the fake VM and driver of virtio-driver.h, with a
 * real I/O loop thread, and a SOCK_SEQPACKET socket pair standing in for
 * the tap (one frame per message, as a tap gives them).  Checks the
 * device's identity and config, feature negotiation and the tap offloads it
 * sets, frames both ways with the vnet header, merged receive buffers, and
 * what a hostile guest or backend can do: transmit chains shorter than the
 * header or longer than any frame, receive buffers too short or too few,
 * frames that fit nowhere. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>

#include "cleanup.h"
#include "tap.h"
#include "virtio-driver.h"
#include "vmm/devices/pci.h"
#include "vmm/kvm.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/pci.h"

#define RAM_SIZE (16ULL << 20)
#define RING_GPA 0x100000ULL
#define BUF_GPA 0x200000ULL
#define QSIZE 16
#define HDR VIRTIO_NET_HDR_LEN
#define F(bit) (1ULL << (bit))
#define BASE_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX))

static struct vm vm;
static uint8_t *ram;
static struct virtio_net *net;
static int peer = -1;	/* the test's end of the fake tap */

static struct drv_device dev = { .vm = &vm, .ring_gpa = RING_GPA, .queue_size = QSIZE };
static struct drv_queue queues[2];
static struct drv_queue *const rxq = &queues[0], *const txq = &queues[1];

/* ---- the fake tap's offload ioctl ---- */

static unsigned int offloads = 0xdead;
static int offload_calls;

static int record_offload(int fd, unsigned int flags)
{
	(void)fd;
	__atomic_store_n(&offloads, flags, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&offload_calls, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* ---- helpers ---- */

static void settle(void)
{
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
}

static struct virtio_net_stats stats(void)
{
	struct virtio_net_stats s;
	virtio_net_stats(net, &s);
	return s;
}

static uint8_t pattern(size_t i, unsigned seed)
{
	return (uint8_t)(i * 31 + seed + i / 253);
}

/* A message on the fake tap within 2 s; its length, or -1. */
static ssize_t peer_recv(uint8_t *buf, size_t size)
{
	struct pollfd p = { .fd = peer, .events = POLLIN };
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(peer, buf, size, MSG_DONTWAIT);
}

static bool peer_quiet(void)
{
	struct pollfd p = { .fd = peer, .events = POLLIN };
	return poll(&p, 1, 100) == 0;
}

/* Sends header (num_buffers garbage, as a tap leaves it) + `len` frame bytes. */
static void peer_send_frame(size_t len, unsigned seed)
{
	uint8_t *m = malloc(HDR + len);
	memset(m, 0, HDR);
	m[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	m[10] = m[11] = 0xee;
	for (size_t i = 0; i < len; i++)
		m[HDR + i] = pattern(i, seed);
	if (send(peer, m, HDR + len, 0) != (ssize_t)(HDR + len))
		perror("send");
	free(m);
}

static void post_rx(uint64_t gpa, uint32_t len)
{
	drv_add_chain(rxq, &gpa, &len, 1, 0);
	drv_publish(&dev, rxq);
}

static bool frame_is(const uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern(i, seed))
			return false;
	return true;
}

static uint16_t num_buffers(uint64_t gpa)
{
	return (uint16_t)(ram[gpa + 10] | ram[gpa + 11] << 8);
}

/* ---- tests ---- */

static void test_identity(void)
{
	int slot = drv_find_slot(&vm, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
	ok(slot > 0, "virtio-net on the PCI bus as 1af4:1041");
	ok((drv_cfg_read(&vm, slot, PCI_CLASS_REVISION, 4) >> 16) == 0x0200, "class: Ethernet");
	dev.bar = drv_find_bar(&vm, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_NUMQ, 2) == 2, "one receive/transmit pair");
	uint64_t f = drv_device_features(&dev);
	uint64_t want = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |
			F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
			F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
			F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6);
	ok((f & want) == want, "offers MAC, STATUS, MRG_RXBUF, CSUM, GUEST_CSUM, TSO4/6 both ways");
	ok(!(f & (F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_GUEST_UFO))),
	   "no control queue, multiqueue or UFO");
	uint8_t mac[6];
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + i, 1);
	ok(!memcmp(mac, "\x02\x00\x5e\x10\x20\x30", 6), "config: the MAC given");
	ok(drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + 6, 2) == VIRTIO_NET_S_LINK_UP,
	   "config: link up");
	drv_mmio_write(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET, 1, 0xff);
	ok(drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET, 1) == 0x02, "config is read-only");
}

static void test_offloads(void)
{
	ok(drv_setup_features(&dev, queues, 2,
			      BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM) |
				      F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6)),
	   "driver up with GUEST_CSUM and GUEST_TSO4/6");
	ok(offloads == (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), "tap offloads: CSUM, TSO4, TSO6");
	ok(drv_setup_features(&dev, queues, 2, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_TSO4)),
	   "driver up with GUEST_TSO4 but no GUEST_CSUM");
	ok(offloads == 0, "tap offloads: none (TSO needs checksum offload)");
	ok(drv_setup_features(&dev, queues, 2, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM)),
	   "driver up with GUEST_CSUM alone");
	ok(offloads == TUN_F_CSUM, "tap offloads: CSUM");
	drv_set_status(&dev, 0);
	ok(offloads == 0, "a reset takes the offloads back");
	ok(!drv_setup_features(&dev, queues, 2, BASE_FEATURES | F(VIRTIO_NET_F_CTRL_VQ)),
	   "a feature not offered (CTRL_VQ) fails FEATURES_OK");
}

static void test_transmit(void)
{
	static uint8_t got[HDR + VIRTIO_NET_MAX_FRAME + 64];
	uint64_t gpa[3] = { BUF_GPA, BUF_GPA + 0x1000, BUF_GPA + 0x2000 };
	uint32_t len[3] = { HDR, 20, 40 };
	struct virtio_net_stats before = stats();

	memset(ram + gpa[0], 0, HDR);
	ram[gpa[0]] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	for (int i = 0; i < 60; i++)
		ram[(i < 20 ? gpa[1] + i : gpa[2] + i - 20)] = pattern(i, 1);
	drv_add_chain(txq, gpa, len, 3, 3);
	drv_publish(&dev, txq);
	ssize_t n = peer_recv(got, sizeof(got));
	ok(n == HDR + 60, "a 3-descriptor chain is one message of header + frame (%zd)", n);
	ok(n == HDR + 60 && got[0] == VIRTIO_NET_HDR_F_NEEDS_CSUM && frame_is(got + HDR, 60, 1),
	   "header and frame bytes as the guest wrote them");
	ok(drv_wait_used(txq, 1) && drv_used_elem(txq, 0).len == 0, "chain returned, 0 written");

	/* Shorter than the header: an error for that chain only. */
	uint32_t short_len = HDR - 4;
	drv_add_chain(txq, gpa, &short_len, 1, 1);
	drv_publish(&dev, txq);
	ok(drv_wait_used(txq, 2), "a chain shorter than the header is returned");
	ok(peer_quiet(), "and nothing is sent for it");

	/* Longer than any frame (VIRTIO_NET_MAX_FRAME + 1), over two descriptors. */
	uint64_t big_gpa[2] = { BUF_GPA + 0x10000, BUF_GPA + 0x20000 };
	uint32_t big_len[2] = { HDR, VIRTIO_NET_MAX_FRAME + 1 };
	drv_add_chain(txq, big_gpa, big_len, 2, 2);
	drv_publish(&dev, txq);
	ok(drv_wait_used(txq, 3), "a chain longer than the largest frame is returned");
	ok(peer_quiet(), "and nothing is sent for it");
	ok(stats().tx_errors == before.tx_errors + 2, "both counted as transmit errors");

	/* The largest frame goes; the ring still moves. */
	big_len[1] = VIRTIO_NET_MAX_FRAME;
	memset(ram + big_gpa[0], 0, HDR);
	for (uint32_t i = 0; i < big_len[1]; i++)
		ram[big_gpa[1] + i] = pattern(i, 2);
	drv_add_chain(txq, big_gpa, big_len, 2, 2);
	drv_publish(&dev, txq);
	n = peer_recv(got, sizeof(got));
	ok(n == HDR + VIRTIO_NET_MAX_FRAME && frame_is(got + HDR, VIRTIO_NET_MAX_FRAME, 2),
	   "the largest frame is sent whole");
	ok(drv_wait_used(txq, 4), "and returned");
	ok(stats().tx_frames == before.tx_frames + 2, "two frames counted");

	/* Writable descriptors in a transmit chain are not sent. */
	uint32_t mixed_len[3] = { HDR, 20, 40 };
	drv_add_chain(txq, gpa, mixed_len, 3, 2);
	drv_publish(&dev, txq);
	n = peer_recv(got, sizeof(got));
	ok(n == HDR + 20, "only the readable part of a chain is sent");
	ok(drv_wait_used(txq, 5), "returned");
}

static void test_receive(void)
{
	struct virtio_net_stats before = stats();

	/* A frame before any buffer waits; the post brings it in. */
	peer_send_frame(100, 3);
	settle();
	ok(drv_used_idx(rxq) == 0, "no buffer: the frame waits");
	post_rx(BUF_GPA, HDR + 1514);
	ok(drv_wait_used(rxq, 1), "delivered once the guest posted a buffer");
	struct vring_used_elem e = drv_used_elem(rxq, 0);
	ok(e.len == HDR + 100, "used length: header + frame (%u)", e.len);
	ok(ram[BUF_GPA] == VIRTIO_NET_HDR_F_DATA_VALID && num_buffers(BUF_GPA) == 1,
	   "header as the tap gave it, num_buffers 1");
	ok(frame_is(ram + BUF_GPA + HDR, 100, 3), "frame bytes intact");

	/* A buffer too short for the header goes back empty; the frame goes
	 * into the next one. */
	post_rx(BUF_GPA + 0x1000, HDR - 1);
	post_rx(BUF_GPA + 0x2000, HDR + 1514);
	peer_send_frame(60, 4);
	ok(drv_wait_used(rxq, 3), "both buffers used");
	ok(drv_used_elem(rxq, 1).len == 0, "the short buffer is returned with nothing");
	ok(drv_used_elem(rxq, 2).len == HDR + 60 && frame_is(ram + BUF_GPA + 0x2000 + HDR, 60, 4),
	   "the frame is in the next buffer");
	ok(stats().rx_bad_buffers == before.rx_bad_buffers + 1, "counted as a bad buffer");

	/* Without merged buffers a frame larger than the buffer is dropped;
	 * the buffer stays for the next frame. */
	post_rx(BUF_GPA + 0x3000, HDR + 200);
	peer_send_frame(1000, 5);
	peer_send_frame(150, 6);
	ok(drv_wait_used(rxq, 4), "one buffer used");
	ok(drv_used_elem(rxq, 3).len == HDR + 150 && frame_is(ram + BUF_GPA + 0x3000 + HDR, 150, 6),
	   "with the frame that fits; the one too big is dropped");

	/* From the backend: no header, or more than the largest frame. */
	uint8_t tiny[5] = { 0 };
	send(peer, tiny, sizeof(tiny), 0);
	peer_send_frame(VIRTIO_NET_MAX_FRAME + 100, 7);
	peer_send_frame(70, 8);
	post_rx(BUF_GPA + 0x4000, HDR + 1514);
	ok(drv_wait_used(rxq, 5), "the next good frame arrives");
	ok(drv_used_elem(rxq, 4).len == HDR + 70 && frame_is(ram + BUF_GPA + 0x4000 + HDR, 70, 8),
	   "past a headerless and an oversized message");
	ok(stats().rx_dropped == before.rx_dropped + 3, "3 frames dropped (%llu)",
	   (unsigned long long)(stats().rx_dropped - before.rx_dropped));
	ok(stats().rx_frames == before.rx_frames + 4, "4 frames received");
}

static void test_merged(void)
{
	struct virtio_net_stats before = stats();

	ok(drv_setup_features(&dev, queues, 2, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF)),
	   "driver up with MRG_RXBUF");
	/* One 1 KiB buffer for a 2.5 KiB frame: it waits for more. */
	post_rx(BUF_GPA, 1024);
	peer_send_frame(2500, 9);
	settle();
	ok(drv_used_idx(rxq) == 0, "too few buffers: nothing returned yet");
	post_rx(BUF_GPA + 0x1000, 1024);
	settle();
	ok(drv_used_idx(rxq) == 0, "still too few");
	post_rx(BUF_GPA + 0x2000, 1024);
	ok(drv_wait_used(rxq, 3), "three buffers used once the third came");
	ok(drv_used_elem(rxq, 0).len == 1024 && drv_used_elem(rxq, 1).len == 1024 &&
		   drv_used_elem(rxq, 2).len == HDR + 2500 - 2048,
	   "lengths 1024, 1024, %u", HDR + 2500 - 2048);
	ok(num_buffers(BUF_GPA) == 3, "num_buffers 3 in the first");
	uint8_t *whole = malloc(HDR + 2500);
	memcpy(whole, ram + BUF_GPA, 1024);
	memcpy(whole + 1024, ram + BUF_GPA + 0x1000, 1024);
	memcpy(whole + 2048, ram + BUF_GPA + 0x2000, HDR + 2500 - 2048);
	ok(frame_is(whole + HDR, 2500, 9), "the frame runs on across the buffers");
	free(whole);

	/* A small frame takes one buffer. */
	post_rx(BUF_GPA + 0x3000, 1024);
	peer_send_frame(64, 10);
	ok(drv_wait_used(rxq, 4) && drv_used_elem(rxq, 3).len == HDR + 64 &&
		   num_buffers(BUF_GPA + 0x3000) == 1,
	   "a small frame: one buffer, num_buffers 1");

	/* Every buffer the ring can hold is still too small: dropped, the
	 * buffers go back empty rather than being held for ever. */
	ok(drv_setup_features(&dev, queues, 2, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF)),
	   "driver up again");
	for (int i = 0; i < QSIZE; i++) {
		uint64_t gpa = BUF_GPA + 0x100ULL * i;
		uint32_t len = 64;
		drv_add_chain(rxq, &gpa, &len, 1, 0);
	}
	drv_publish(&dev, rxq);
	peer_send_frame(2000, 11);
	ok(drv_wait_used(rxq, QSIZE), "all %d buffers returned", QSIZE);
	bool empty = true;
	for (int i = 0; i < QSIZE; i++)
		empty = empty && drv_used_elem(rxq, (uint16_t)i).len == 0;
	ok(empty, "each with nothing written");
	ok(stats().rx_dropped == before.rx_dropped + 1, "the frame counted as dropped");

	/* The device is not stuck: a frame after that still arrives. */
	post_rx(BUF_GPA + 0x4000, 2048);
	peer_send_frame(500, 12);
	ok(drv_wait_used(rxq, QSIZE + 1) && drv_used_elem(rxq, QSIZE).len == HDR + 500 &&
		   frame_is(ram + BUF_GPA + 0x4000 + HDR, 500, 12),
	   "the next frame is delivered");
}

static void test_reset_midframe(void)
{
	ok(drv_setup_features(&dev, queues, 2, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF)),
	   "driver up with MRG_RXBUF");
	post_rx(BUF_GPA, 1024);
	peer_send_frame(3000, 13);
	settle();
	/* The device holds one chain and half a frame: a reset drops both. */
	ok(drv_setup(&dev, queues, 2), "reset and up again without MRG_RXBUF");
	post_rx(BUF_GPA + 0x1000, HDR + 1514);
	peer_send_frame(80, 14);
	ok(drv_wait_used(rxq, 1) && drv_used_elem(rxq, 0).len == HDR + 80 &&
		   frame_is(ram + BUF_GPA + 0x1000 + HDR, 80, 14),
	   "the next driver gets the next frame, in its own buffer");
}

/* A spare: no backend and link down until virtio_net_connect gives it an
 * fd under a running driver.  On a VM of its own, through the helpers'
 * globals. */
static void test_spare(void)
{
	struct vm vm3;
	uint8_t *ram3, *saved_ram = ram;
	novm_error_t err = NULL;
	int sv[2], p[2];

	if (fake_vm_init(&vm3, &ram3, RAM_SIZE, &err) < 0 || pci_init(&vm3, &err) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(p) < 0) {
		ok(false, "a fake VM for the spare");
		novm_error_release(&err);
		return;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	const struct virtio_net_config_host cfg = {
		.fd = -1,
		.mac = { 0x02, 'n', 'o', 'v', 'm', 0 },
		.set_offload = record_offload,
		.label = "NIC 1 (spare)",
	};
	ok(virtio_net_init(&vm3, &cfg, &net, &err) == 0, "a spare: a device without an fd");
	ram = ram3;
	dev = (struct drv_device){ .vm = &vm3, .ram = ram3, .ring_gpa = RING_GPA, .queue_size = QSIZE };
	dev.bar = drv_find_bar(&vm3, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
	uint64_t link_status = dev.bar + VIRTIO_PCI_DEVICE_OFFSET + 6;
	ok(drv_mmio_read(&vm3, link_status, 2) == 0 && !virtio_net_connected(net),
	   "its link is down, it has no backend");
	if (ioloop_start(&vm3.loop, &err) < 0) {
		novm_error_print(&err, "test-virtio-net");
		return;
	}
	int calls = offload_calls;
	ok(drv_setup_features(&dev, queues, 2, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM)),
	   "a driver comes up on the spare");
	ok(offload_calls == calls, "no offloads set: there is no tap yet");
	uint64_t gpa = BUF_GPA;
	uint32_t len = HDR + 60;
	memset(ram + gpa, 0, HDR);
	for (int i = 0; i < 60; i++)
		ram[gpa + HDR + i] = pattern(i, 22);
	drv_add_chain(txq, &gpa, &len, 1, 1);
	drv_publish(&dev, txq);
	ok(drv_wait_used(txq, 1) && stats().tx_errors == 1,
	   "what the guest sends meanwhile is dropped, its chain returned");

	uint8_t generation = (uint8_t)drv_common_read(&dev, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
	ok(virtio_net_connect(net, sv[0], &err) == 0 && virtio_net_connected(net), "connected");
	novm_error_release(&err);
	ok(drv_mmio_read(&vm3, link_status, 2) == VIRTIO_NET_S_LINK_UP &&
		   drv_common_read(&dev, VIRTIO_PCI_COMMON_CFGGENERATION, 1) != generation,
	   "the link is up, with a configuration change");
	ok(offloads == TUN_F_CSUM && offload_calls == calls + 1,
	   "the running driver's offloads are set on the new fd");
	peer = sv[1];
	post_rx(BUF_GPA + 0x1000, HDR + 1514);
	peer_send_frame(100, 21);
	ok(drv_wait_used(rxq, 1) && drv_used_elem(rxq, 0).len == HDR + 100 &&
		   frame_is(ram + BUF_GPA + 0x1000 + HDR, 100, 21),
	   "a frame from the tap reaches the guest");
	drv_add_chain(txq, &gpa, &len, 1, 1);
	drv_publish(&dev, txq);
	uint8_t got[256];
	ssize_t n = peer_recv(got, sizeof(got));
	ok(n == HDR + 60 && frame_is(got + HDR, 60, 22), "the guest's frame reaches the tap");

	ok(virtio_net_connect(net, p[0], &err) < 0 && err && err->errno_ == EBUSY,
	   "a device with an fd takes no other");
	novm_error_release(&err);
	signal(SIGPIPE, SIG_IGN);
	ok(write(p[1], "x", 1) < 0 && errno == EPIPE, "and closes the one it was given");
	close(p[1]);

	ioloop_stop(&vm3.loop);
	virtio_net_exit(net);
	close(sv[1]);
	pci_exit(&vm3);
	fake_vm_destroy(&vm3, ram3);
	ram = saved_ram;
}

static int fail_offload(int fd, unsigned int flags)
{
	(void)fd;
	(void)flags;
	return -EINVAL;
}

int main(void)
{
	novm_error_t err = NULL;
	int sv[2];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fake_vm_init(&vm, &ram, RAM_SIZE, &err) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		printf("1..0 # SKIP cannot set up a fake VM or a socket pair\n");
		return 0;
	}
	dev.ram = ram;
	peer = sv[1];
	/* Room for a few 64 KiB frames in flight. */
	int bufsize = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);

	ok(pci_init(&vm, &err) == 0, "pci_init");
	const struct virtio_net_config_host cfg = {
		.fd = sv[0],
		.mac = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 },
		.set_offload = record_offload,
	};
	ok(virtio_net_init(&vm, &cfg, &net, &err) == 0, "virtio_net_init");
	if (err) {
		novm_error_print(&err, "test-virtio-net");
		return tap_done();
	}
	test_identity();
	if (ioloop_start(&vm.loop, &err) < 0) {
		novm_error_print(&err, "test-virtio-net");
		return 1;
	}
	test_offloads();
	ok(drv_setup(&dev, queues, 2), "driver up without offloads or merged buffers");
	test_transmit();
	test_receive();
	test_merged();
	test_reset_midframe();

	/* The diagnosis (the control socket's `diag`) shows the counters. */
	char *diag = NULL;
	size_t diag_len = 0;
	FILE *out = open_memstream(&diag, &diag_len);
	virtio_pci_describe_all(&vm, out);
	fclose(out);
	ok(diag && strstr(diag, "\"device\":\"virtio-net\"") && strstr(diag, "\"tx_frames\":3,") &&
		   strstr(diag, "\"rx_dropped\":"),
	   "diag describes the device and its counters");
	free(diag);

	ioloop_stop(&vm.loop);
	virtio_net_exit(net);
	ok(pci_bus_find(vm.pci, 0x1af4, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET) == NULL,
	   "virtio_net_exit removed the device");
	ok(send(peer, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EPIPE,
	   "and closed its end of the socket");
	virtio_net_exit(NULL);

	/* A tap that refuses the offloads: the driver sees NEEDS_RESET. */
	struct vm vm2;
	uint8_t *ram2;
	novm_error_t err2 = NULL;
	int sv2[2];
	if (fake_vm_init(&vm2, &ram2, RAM_SIZE, &err2) == 0 && pci_init(&vm2, &err2) == 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv2) == 0) {
		struct virtio_net *net2;
		const struct virtio_net_config_host cfg2 = { .fd = sv2[0], .set_offload = fail_offload };
		struct drv_device dev2 = { .vm = &vm2, .ram = ram2, .ring_gpa = RING_GPA,
					   .queue_size = QSIZE };
		ok(virtio_net_init(&vm2, &cfg2, &net2, &err2) == 0, "second device");
		dev2.bar = drv_find_bar(&vm2, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
		ok(!drv_setup(&dev2, queues, 2) && (drv_status(&dev2) & VIRTIO_CONFIG_S_NEEDS_RESET),
		   "offloads refused: NEEDS_RESET, not a crash");
		virtio_net_exit(net2);
		close(sv2[1]);
		pci_exit(&vm2);
		ioloop_stop(&vm2.loop);
		fake_vm_destroy(&vm2, ram2);
	}
	novm_error_release(&err2);

	close(peer);
	test_spare();
	pci_exit(&vm);
	fake_vm_destroy(&vm, ram);
	return tap_done();
}
