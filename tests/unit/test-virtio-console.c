/* virtio-console without KVM: the fake VM and the EVENT_IDX driver of
 * virtio-driver.h, with a real I/O loop thread serving the queues.  Checks
 * guest-to-host bytes, host-to-guest bytes waiting for buffers and filling
 * them in order, back-pressure, and pending bytes surviving a device reset. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/virtio_console.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "cleanup.h"
#include "tap.h"
#include "virtio-driver.h"
#include "vmm/devices/pci.h"
#include "vmm/kvm.h"
#include "vmm/virtio/console.h"
#include "vmm/virtio/pci.h"

#define RAM_SIZE (16ULL << 20)
#define RING_GPA 0x100000ULL	/* queue n's rings at RING_GPA + n * DRV_RING_STRIDE */
#define BUF_GPA 0x200000ULL
#define QSIZE 64
#define BIG_BUF (64u << 10)

static struct vm vm;
static uint8_t *ram;

/* ---- what the host side saw ---- */

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t seen[1 << 17];
static size_t seen_len;
static int writable_calls;

static void on_receive(void *opaque, const uint8_t *data, size_t len)
{
	(void)opaque;
	pthread_mutex_lock(&seen_lock);
	if (len <= sizeof(seen) - seen_len) {
		memcpy(seen + seen_len, data, len);
		seen_len += len;
	}
	pthread_mutex_unlock(&seen_lock);
}

static void on_writable(void *opaque)
{
	(void)opaque;
	__atomic_add_fetch(&writable_calls, 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_console_ops ops = { .receive = on_receive, .writable = on_writable };

/* ---- the guest driver ---- */

static struct drv_device dev = { .vm = &vm, .ring_gpa = RING_GPA, .queue_size = QSIZE };
static struct drv_queue queues[2];
static struct drv_queue *const rxq = &queues[0], *const txq = &queues[1];

static bool wait_writable(int want)
{
	for (int i = 0; i < 1000; i++) {
		if (__atomic_load_n(&writable_calls, __ATOMIC_SEQ_CST) == want)
			return true;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return false;
}

static void settle(void)
{
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
}

/* Posts one writable buffer per length, each its own chain. */
static void post_rx(const uint64_t *gpa, const uint32_t *len, int n)
{
	for (int i = 0; i < n; i++)
		drv_add_chain(rxq, &gpa[i], &len[i], 1, 0);
	drv_publish(&dev, rxq);
}

/* ---- tests ---- */

static struct virtio_console *con;

static void test_identity(void)
{
	int slot = drv_find_slot(&vm, VIRTIO_PCI_DEVICE_BASE + 3);
	ok(slot > 0, "virtio-console on the PCI bus as 1af4:1043");
	ok((drv_cfg_read(&vm, slot, PCI_CLASS_REVISION, 4) >> 16) == 0x0780,
	   "class: other communication");
	dev.bar = drv_cfg_read(&vm, slot, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK;
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_NUMQ, 2) == 2,
	   "two queues (receiveq, transmitq)");
	drv_common_write(&dev, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	ok((drv_common_read(&dev, VIRTIO_PCI_COMMON_DF, 4) & 0xffffff) == 0,
	   "no device features (no SIZE, MULTIPORT, EMERG_WRITE)");
	ok(drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + 4, 4) == 1,
	   "config: max_nr_ports 1");
	drv_mmio_write(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + 8, 4, 'x');
	ok(drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + 8, 4) == 0,
	   "config is read-only");
}

static void test_transmit(void)
{
	uint64_t gpa[2] = { BUF_GPA, BUF_GPA + 0x1000 };
	uint32_t len[2] = { 7, 5 };

	memcpy(ram + gpa[0], "hello, ", 7);
	memcpy(ram + gpa[1], "world", 5);
	drv_add_chain(txq, gpa, len, 2, 2);
	drv_publish(&dev, txq);
	ok(drv_wait_used(txq, 1), "transmit chain returned");
	ok(drv_used_elem(txq, 0).len == 0, "with 0 bytes written");
	pthread_mutex_lock(&seen_lock);
	ok(seen_len == 12 && !memcmp(seen, "hello, world", 12), "callback got both segments in order");
	pthread_mutex_unlock(&seen_lock);

	/* Bigger than the device's bounce buffer: arrives in pieces, whole. */
	uint32_t big = 100000;
	for (uint32_t i = 0; i < big; i++)
		ram[BUF_GPA + 0x10000 + i] = (uint8_t)(i * 7 + i / 251);
	gpa[0] = BUF_GPA + 0x10000;
	drv_add_chain(txq, gpa, &big, 1, 1);
	drv_publish(&dev, txq);
	ok(drv_wait_used(txq, 2), "large transmit returned");
	pthread_mutex_lock(&seen_lock);
	ok(seen_len == 12 + big && !memcmp(seen + 12, ram + BUF_GPA + 0x10000, big),
	   "callback got all %u bytes in order", big);
	pthread_mutex_unlock(&seen_lock);
}

static bool rx_is(uint16_t i, const char *want)
{
	struct vring_used_elem e = drv_used_elem(rxq, i);
	uint64_t gpa = rxq->desc[e.id].addr;
	return e.len == strlen(want) && !memcmp(ram + gpa, want, e.len);
}

static void test_receive(void)
{
	/* Host bytes with no guest buffer: they wait. */
	ok(virtio_console_send(con, "abcdefghij", 10) == 0, "send with no receive buffer");
	settle();
	ok(drv_used_idx(rxq) == 0, "nothing delivered without buffers");

	uint64_t gpa[3] = { BUF_GPA, BUF_GPA + 0x1000, BUF_GPA + 0x2000 };
	uint32_t len[3] = { 4, 4, 16 };
	post_rx(gpa, len, 2);
	ok(drv_wait_used(rxq, 2), "two 4-byte buffers filled after the guest posted them");
	ok(rx_is(0, "abcd") && rx_is(1, "efgh"), "in order, split across buffers");
	post_rx(&gpa[2], &len[2], 1);
	ok(drv_wait_used(rxq, 3), "third buffer filled");
	ok(rx_is(2, "ij"), "with the 2 bytes left");

	/* Guest buffers with no host bytes: the device leaves them posted,
	 * and the send itself gets them going (no guest kick comes). */
	uint32_t len8[2] = { 8, 8 };
	post_rx(gpa, len8, 2);
	settle();
	ok(drv_used_idx(rxq) == 3, "empty buffers are not returned");
	struct iovec iov[2] = { { "01234567", 8 }, { "89ABCDEFXYZ", 11 } };
	ok(virtio_console_sendv(con, iov, 2) == 0, "sendv of two pieces");
	ok(drv_wait_used(rxq, 5), "posted buffers filled on send");
	ok(rx_is(3, "01234567") && rx_is(4, "89ABCDEF"), "pieces joined and split by buffer");
	post_rx(&gpa[2], &len[2], 1);
	ok(drv_wait_used(rxq, 6) && rx_is(5, "XYZ"), "remainder in the next buffer");
	ok(virtio_console_send(con, "", 0) == 0, "empty send is fine");
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + i / 509);
}

static size_t stream_sent, stream_checked;

static int send_stream(size_t n)
{
	uint8_t *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = pattern(stream_sent + i);
	int r = virtio_console_send(con, p, n);
	free(p);
	if (r == 0)
		stream_sent += n;
	return r;
}

/* Posts up to `n` 64 KiB buffers, waits for them, checks the bytes.  Returns
 * the number of bytes received. */
static size_t drain(int n, bool *in_order)
{
	uint64_t gpa[40];
	uint32_t len[40];
	uint16_t start = drv_used_idx(rxq);
	size_t got = 0;

	for (int i = 0; i < n; i++) {
		gpa[i] = BUF_GPA + 0x100000ULL + (uint64_t)i * BIG_BUF;
		len[i] = BIG_BUF;
	}
	post_rx(gpa, len, n);
	if (!drv_wait_used(rxq, (uint16_t)(start + n)))
		return 0;
	for (int i = 0; i < n; i++) {
		struct vring_used_elem e = drv_used_elem(rxq, (uint16_t)(start + i));
		const uint8_t *p = ram + rxq->desc[e.id].addr;
		for (uint32_t j = 0; j < e.len; j++)
			if (p[j] != pattern(stream_checked + j))
				*in_order = false;
		stream_checked += e.len;
		got += e.len;
	}
	return got;
}

static void test_backpressure(void)
{
	const size_t max = VIRTIO_CONSOLE_MAX_PENDING;
	bool in_order = true;

	ok(send_stream(max - 10) == 0, "%zu bytes queued", max - 10);
	ok(send_stream(11) == -EAGAIN, "one byte over the bound: -EAGAIN");
	ok(send_stream(10) == 0, "exactly up to the bound: accepted");
	ok(send_stream(1) == -EAGAIN, "full: -EAGAIN");
	ok(virtio_console_send(con, "x", max + 1) == -EMSGSIZE, "more than the bound: -EMSGSIZE");
	ok(__atomic_load_n(&writable_calls, __ATOMIC_SEQ_CST) == 0, "no writable call yet");

	size_t got = drain(16, &in_order);	/* 1 MiB: still above half */
	ok(got == 16 * BIG_BUF, "1 MiB delivered into 16 buffers");
	ok(__atomic_load_n(&writable_calls, __ATOMIC_SEQ_CST) == 0, "still above half: not writable");
	got = drain(16, &in_order);
	ok(wait_writable(1), "writable called once below half the bound");
	/* New bytes wrap around the device's ring buffer. */
	ok(send_stream(1536 * 1024) == 0, "sending again after writable");
	size_t left = stream_sent - stream_checked;
	while (left && got) {
		size_t buffers = (left + BIG_BUF - 1) / BIG_BUF;
		got = drain(buffers > 32 ? 32 : (int)buffers, &in_order);
		left = stream_sent - stream_checked;
	}
	ok(left == 0, "everything delivered (%zu bytes)", stream_sent);
	ok(in_order, "byte stream intact and in order across buffers and wrap-around");
	ok(__atomic_load_n(&writable_calls, __ATOMIC_SEQ_CST) == 1, "writable owed once, called once");
}

static void test_reset_keeps_pending(void)
{
	ok(virtio_console_send(con, "after reset", 11) == 0, "bytes queued");
	drv_set_status(&dev, 0);
	ok(drv_status(&dev) == 0, "device reset");
	ok(drv_setup(&dev, queues, ARRAY_SIZE(queues)), "new driver instance up");
	uint64_t gpa = BUF_GPA;
	uint32_t len = 64;
	post_rx(&gpa, &len, 1);
	ok(drv_wait_used(rxq, 1) && rx_is(0, "after reset"), "pending bytes reach the next driver");

	/* Transmit still works after the reset. */
	pthread_mutex_lock(&seen_lock);
	seen_len = 0;
	pthread_mutex_unlock(&seen_lock);
	memcpy(ram + BUF_GPA + 0x1000, "again", 5);
	gpa = BUF_GPA + 0x1000;
	len = 5;
	drv_add_chain(txq, &gpa, &len, 1, 1);
	drv_publish(&dev, txq);
	ok(drv_wait_used(txq, 1), "transmit after reset");
	pthread_mutex_lock(&seen_lock);
	ok(seen_len == 5 && !memcmp(seen, "again", 5), "callback got it");
	pthread_mutex_unlock(&seen_lock);
}

static void test_init_errors(void)
{
	novm_error_t err = NULL;
	struct virtio_console *c = NULL;
	static const struct virtio_console_ops no_receive = { 0 };

	ok(virtio_console_init(&vm, &no_receive, NULL, &c, &err) < 0 && err,
	   "a console without receive callback is refused");
	novm_error_release(&err);
}

int main(void)
{
	novm_error_t err = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fake_vm_init(&vm, &ram, RAM_SIZE, &err) < 0) {
		printf("1..0 # SKIP cannot set up a fake VM\n");
		return 0;
	}
	dev.ram = ram;

	ok(pci_init(&vm, &err) == 0, "pci_init");
	ok(virtio_console_init(&vm, &ops, NULL, &con, &err) == 0, "virtio_console_init");
	if (err) {
		novm_error_print(&err, "test-virtio-console");
		return tap_done();
	}
	test_identity();
	test_init_errors();
	if (ioloop_start(&vm.loop, &err) < 0) {
		novm_error_print(&err, "test-virtio-console");
		return 1;
	}
	ok(drv_setup(&dev, queues, ARRAY_SIZE(queues)), "driver set up with EVENT_IDX");
	test_transmit();
	test_receive();
	test_backpressure();
	test_reset_keeps_pending();

	ioloop_stop(&vm.loop);
	virtio_console_exit(con);
	ok(pci_bus_find(vm.pci, 0x1af4, VIRTIO_PCI_DEVICE_BASE + 3) == NULL,
	   "virtio_console_exit removed the device");
	virtio_console_exit(NULL);
	pci_exit(&vm);
	fake_vm_destroy(&vm, ram);
	return tap_done();
}
