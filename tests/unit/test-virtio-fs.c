/* virtio-fs without KVM: the fake VM and the EVENT_IDX driver of
 * virtio-driver.h, a real I/O loop thread, and the real FUSE server on a
 * temporary directory.  Requests are laid out the way Linux's virtio_fs does
 * (header, arguments, reply header and reply body in separate descriptors). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_pci.h>

#include "cleanup.h"
#include "tap.h"
#include "util.h"
#include "virtio-driver.h"
#include "vmm/devices/pci.h"
#include "vmm/kvm.h"
#include "vmm/virtio/fs.h"
#include "vmm/virtio/pci.h"

#define RAM_SIZE (16ULL << 20)
#define RING_GPA 0x100000ULL	/* queue n's rings at RING_GPA + n * DRV_RING_STRIDE */
#define SLOT_GPA 0x200000ULL	/* request slot i: in at +0, out at +0x1000 */
#define SLOT_SIZE 0x2000ULL
#define QSIZE 256
#define NR_REQUEST_QUEUES 2
#define DATA_GPA 0x800000ULL
#define BIG_FILE (1u << 20)
#define FS_DEVICE_ID (VIRTIO_PCI_DEVICE_BASE + 26)

static struct vm vm;
static uint8_t *ram;
static char share[] = "/tmp/test-virtio-fs.XXXXXX";

/* ---- the guest driver ---- */

static struct drv_device dev = { .vm = &vm, .ring_gpa = RING_GPA, .queue_size = QSIZE };
static struct drv_queue queues[1 + NR_REQUEST_QUEUES];
static struct drv_queue *const hiprio = &queues[0];

/* ---- FUSE requests in guest memory ---- */

static uint64_t unique;

static struct fuse_out_header *slot_reply(int slot)
{
	return (struct fuse_out_header *)(ram + SLOT_GPA + slot * SLOT_SIZE + 0x1000);
}

static void *slot_body(int slot)
{
	return slot_reply(slot) + 1;
}

/* Builds a request in `slot` and queues it as Linux does: in header,
 * arguments, out header, out body.  Returns its unique id. */
static uint64_t add_request(struct drv_queue *q, int slot, uint32_t opcode, uint64_t nodeid,
			    const void *arg, uint32_t arg_len, uint32_t body_len)
{
	uint64_t in = SLOT_GPA + slot * SLOT_SIZE, out = in + 0x1000;
	struct fuse_in_header h = {
		.len = (uint32_t)sizeof(h) + arg_len,
		.opcode = opcode,
		.unique = ++unique,
		.nodeid = nodeid,
	};

	memcpy(ram + in, &h, sizeof(h));
	memcpy(ram + in + sizeof(h), arg, arg_len);
	memset(ram + out, 0, 0x1000);
	uint64_t gpa[4] = { in, in + sizeof(h), out, out + sizeof(struct fuse_out_header) };
	uint32_t len[4] = { sizeof(h), arg_len, sizeof(struct fuse_out_header), body_len };
	drv_add_chain(q, gpa, len, 4, 2);
	return h.unique;
}

/* One request on queue 1, waited for; returns the reply's error, or 1 when
 * it never came back. */
static int call(int slot, uint32_t opcode, uint64_t nodeid, const void *arg, uint32_t arg_len,
		uint32_t body_len)
{
	struct drv_queue *q = &queues[1];
	uint16_t want = (uint16_t)(drv_used_idx(q) + 1);
	uint64_t id = add_request(q, slot, opcode, nodeid, arg, arg_len, body_len);

	drv_publish(&dev, q);
	if (!drv_wait_used(q, want) || slot_reply(slot)->unique != id ||
	    drv_used_elem(q, want - 1).len != slot_reply(slot)->len)
		return 1;
	return slot_reply(slot)->error;
}

/* ---- tests ---- */

static struct virtio_fs *fs;

static void test_config_errors(void)
{
	novm_error_t err = NULL;
	struct virtio_fs *f = NULL;
	char long_tag[VIRTIO_FS_TAG_MAX + 2];
	struct virtio_fs_config_host cfg = { .tag = "", .root = share };

	ok(virtio_fs_init(&vm, &cfg, &f, &err) < 0 && err, "empty tag refused");
	novm_error_release(&err);
	memset(long_tag, 't', sizeof(long_tag) - 1);
	long_tag[sizeof(long_tag) - 1] = 0;
	cfg.tag = long_tag;
	ok(virtio_fs_init(&vm, &cfg, &f, &err) < 0 && err, "37-byte tag refused");
	novm_error_release(&err);
	cfg.tag = "ok";
	cfg.nr_request_queues = VIRTIO_FS_MAX_REQUEST_QUEUES + 1;
	ok(virtio_fs_init(&vm, &cfg, &f, &err) < 0 && err, "too many request queues refused");
	novm_error_release(&err);
	cfg.nr_request_queues = 0;
	cfg.nr_workers = VIRTIO_FS_MAX_WORKERS + 1;
	ok(virtio_fs_init(&vm, &cfg, &f, &err) < 0 && err, "too many workers refused");
	novm_error_release(&err);
	cfg.nr_workers = 0;
	cfg.root = "/nonexistent/virtio-fs-share";
	ok(virtio_fs_init(&vm, &cfg, &f, &err) < 0 && err, "missing share refused");
	novm_error_release(&err);
	ok(pci_bus_find(vm.pci, 0x1af4, FS_DEVICE_ID) == NULL, "failed inits left nothing on the bus");

	/* The longest tag fills the field with no NUL. */
	long_tag[VIRTIO_FS_TAG_MAX] = 0;
	cfg = (struct virtio_fs_config_host){ .tag = long_tag, .root = share,
					      .nr_request_queues = VIRTIO_FS_MAX_REQUEST_QUEUES };
	ok(virtio_fs_init(&vm, &cfg, &f, &err) == 0, "36-byte tag, %d request queues",
	   VIRTIO_FS_MAX_REQUEST_QUEUES);
	dev.bar = drv_find_bar(&vm, FS_DEVICE_ID);
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_NUMQ, 2) == 1 + VIRTIO_FS_MAX_REQUEST_QUEUES,
	   "hiprio plus %d request queues", VIRTIO_FS_MAX_REQUEST_QUEUES);
	struct virtio_fs_config c;
	for (unsigned i = 0; i < sizeof(c); i++)
		((uint8_t *)&c)[i] =
			(uint8_t)drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + i, 1);
	ok(!memcmp(c.tag, long_tag, VIRTIO_FS_TAG_MAX) &&
		   c.num_request_queues == VIRTIO_FS_MAX_REQUEST_QUEUES,
	   "config: whole tag, num_request_queues");
	virtio_fs_exit(f);
	ok(pci_bus_find(vm.pci, 0x1af4, FS_DEVICE_ID) == NULL, "virtio_fs_exit removed it");
}

/* The pod share's device: a graft root of its server's own. */
static void test_graft_root(void)
{
	const struct virtio_fs_config_host cfg = { .tag = "novm-pod", .grafts = true };
	struct virtio_fs *pod = NULL;
	novm_error_t err = NULL;

	ok(virtio_fs_init(&vm, &cfg, &pod, &err) == 0, "a graft root device needs no directory");
	int fd = open(share, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ok(pod && virtio_fs_graft(pod, "share", fd, &err) == 0 && virtio_fs_ungraft(pod, "sh") == 1,
	   "grafted and ungrafted through the device");
	novm_error_release(&err);
	virtio_fs_exit(pod);
}

static void test_identity(void)
{
	dev.bar = drv_find_bar(&vm, FS_DEVICE_ID);
	ok(dev.bar != 0, "virtio-fs on the PCI bus as 1af4:105a");
	ok(drv_common_read(&dev, VIRTIO_PCI_COMMON_NUMQ, 2) == 1 + NR_REQUEST_QUEUES,
	   "hiprio plus %d request queues", NR_REQUEST_QUEUES);
	drv_common_write(&dev, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	ok((drv_common_read(&dev, VIRTIO_PCI_COMMON_DF, 4) & 0xffffff) == 0, "no device features");
	char tag[37] = { 0 };
	for (unsigned i = 0; i < 36; i++)
		tag[i] = (char)drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + i, 1);
	ok(!strcmp(tag, "testfs"), "config: tag \"%s\", NUL padded", tag);
	ok(drv_mmio_read(&vm, dev.bar + VIRTIO_PCI_DEVICE_OFFSET + 36, 4) == NR_REQUEST_QUEUES,
	   "config: num_request_queues %d", NR_REQUEST_QUEUES);
}

static uint64_t file_node, big_node;

static void test_requests(void)
{
	struct fuse_init_in init = { .major = FUSE_KERNEL_VERSION,
				     .minor = FUSE_KERNEL_MINOR_VERSION,
				     .max_readahead = 65536,
				     .flags = FUSE_ASYNC_READ | FUSE_MAX_PAGES };
	ok(call(0, FUSE_INIT, 0, &init, sizeof(init), sizeof(struct fuse_init_out)) == 0,
	   "FUSE_INIT answered through the used ring");
	ok(drv_used_elem(&queues[1], 0).len ==
		   sizeof(struct fuse_out_header) + sizeof(struct fuse_init_out),
	   "used length is the reply length");
	struct fuse_init_out *io = slot_body(0);
	ok(io->major == FUSE_KERNEL_VERSION && io->minor >= 31, "protocol 7.%u agreed", io->minor);

	ok(call(1, FUSE_LOOKUP, FUSE_ROOT_ID, "hello.txt", 10, sizeof(struct fuse_entry_out)) == 0,
	   "LOOKUP hello.txt");
	struct fuse_entry_out *e = slot_body(1);
	file_node = e->nodeid;
	ok(e->nodeid > FUSE_ROOT_ID && e->attr.size == 9 && S_ISREG(e->attr.mode),
	   "entry: a 9-byte regular file");
	ok(call(2, FUSE_LOOKUP, FUSE_ROOT_ID, "missing", 8, sizeof(struct fuse_entry_out)) == -ENOENT,
	   "LOOKUP of a missing name: -ENOENT");

	struct fuse_open_in open_in = { .flags = O_RDONLY };
	ok(call(3, FUSE_OPEN, file_node, &open_in, sizeof(open_in), sizeof(struct fuse_open_out)) == 0,
	   "OPEN");
	uint64_t fh = ((struct fuse_open_out *)slot_body(3))->fh;
	struct fuse_read_in read_in = { .fh = fh, .offset = 0, .size = 4096 };
	ok(call(4, FUSE_READ, file_node, &read_in, sizeof(read_in), 4096) == 0, "READ");
	ok(slot_reply(4)->len == sizeof(struct fuse_out_header) + 9 &&
		   !memcmp(slot_body(4), "hi there\n", 9),
	   "file contents in the writable buffers");
}

/* More requests at once than the device holds jobs for (2 workers x 4),
 * over both request queues. */
static void test_burst(void)
{
	enum { BURST = 48 };
	uint64_t ids[BURST];
	uint16_t start[1 + NR_REQUEST_QUEUES];

	for (int q = 1; q <= NR_REQUEST_QUEUES; q++)
		start[q] = drv_used_idx(&queues[q]);
	for (int i = 0; i < BURST; i++)
		ids[i] = add_request(&queues[1 + i % NR_REQUEST_QUEUES], 10 + i, FUSE_LOOKUP,
				     FUSE_ROOT_ID, "hello.txt", 10, sizeof(struct fuse_entry_out));
	for (int q = 1; q <= NR_REQUEST_QUEUES; q++)
		drv_publish(&dev, &queues[q]);
	bool all = true;
	for (int q = 1; q <= NR_REQUEST_QUEUES; q++)
		all &= drv_wait_used(&queues[q], (uint16_t)(start[q] + BURST / NR_REQUEST_QUEUES));
	ok(all, "%d requests over %d queues all answered", BURST, NR_REQUEST_QUEUES);
	bool right = true;
	for (int i = 0; i < BURST; i++) {
		struct fuse_entry_out *be = slot_body(10 + i);
		right &= slot_reply(10 + i)->unique == ids[i] && slot_reply(10 + i)->error == 0 &&
			 be->nodeid == file_node;
	}
	ok(right, "each with its own correct reply");
}

static void test_hiprio_and_malformed(void)
{
	/* FORGET: readable only, no reply. */
	struct fuse_forget_in forget = { .nlookup = 1 };
	uint64_t in = SLOT_GPA + 100 * SLOT_SIZE;
	struct fuse_in_header h = { .len = sizeof(h) + sizeof(forget), .opcode = FUSE_FORGET,
				    .unique = ++unique, .nodeid = file_node };
	memcpy(ram + in, &h, sizeof(h));
	memcpy(ram + in + sizeof(h), &forget, sizeof(forget));
	uint64_t gpa[1] = { in };
	uint32_t len[1] = { sizeof(h) + sizeof(forget) };
	drv_add_chain(hiprio, gpa, len, 1, 1);
	drv_publish(&dev, hiprio);
	ok(drv_wait_used(hiprio, 1) && drv_used_elem(hiprio, 0).len == 0,
	   "FORGET on the hiprio queue returned with 0 bytes");

	/* Too short to be a FUSE header: returned empty, device keeps going. */
	struct drv_queue *q = &queues[1];
	uint16_t want = (uint16_t)(drv_used_idx(q) + 1);
	uint64_t bad[2] = { SLOT_GPA + 101 * SLOT_SIZE, SLOT_GPA + 101 * SLOT_SIZE + 0x1000 };
	uint32_t bad_len[2] = { 8, 64 };
	memset(ram + bad[1], 0x5a, 64);
	drv_add_chain(q, bad, bad_len, 2, 1);
	drv_publish(&dev, q);
	ok(drv_wait_used(q, want) && drv_used_elem(q, want - 1).len == 0,
	   "8-byte request returned empty");
	ok(ram[bad[1]] == 0x5a, "and nothing written");
	ok(!(drv_status(&dev) & VIRTIO_CONFIG_S_NEEDS_RESET), "device not broken by it");
	struct fuse_getattr_in ga = { 0 };
	ok(call(102, FUSE_GETATTR, FUSE_ROOT_ID, &ga, sizeof(ga), sizeof(struct fuse_attr_out)) == 0,
	   "next request served normally");
}

/* A READ of the whole 1 MiB file into the shared data area. */
static void add_big_read(int slot, uint64_t fh)
{
	uint64_t in = SLOT_GPA + slot * SLOT_SIZE, out = in + 0x1000;
	struct fuse_in_header h = { .len = sizeof(h) + sizeof(struct fuse_read_in),
				    .opcode = FUSE_READ, .unique = ++unique, .nodeid = big_node };
	struct fuse_read_in rd = { .fh = fh, .size = BIG_FILE };

	memcpy(ram + in, &h, sizeof(h));
	memcpy(ram + in + sizeof(h), &rd, sizeof(rd));
	uint64_t gpa[4] = { in, in + sizeof(h), out, DATA_GPA };
	uint32_t len[4] = { sizeof(h), sizeof(rd), sizeof(struct fuse_out_header), BIG_FILE };
	drv_add_chain(&queues[1], gpa, len, 4, 2);
}

static void test_reset(void)
{
	struct fuse_open_in open_in = { .flags = O_RDONLY };

	ok(call(0, FUSE_LOOKUP, FUSE_ROOT_ID, "big.bin", 8, sizeof(struct fuse_entry_out)) == 0,
	   "LOOKUP big.bin");
	big_node = ((struct fuse_entry_out *)slot_body(0))->nodeid;
	ok(call(1, FUSE_OPEN, big_node, &open_in, sizeof(open_in), sizeof(struct fuse_open_out)) == 0,
	   "OPEN big.bin");
	uint64_t fh = ((struct fuse_open_out *)slot_body(1))->fh;

	/* Reset with 1 MiB reads in flight: once the status reads 0 nothing
	 * may write into their buffers or the rings any more. */
	enum { N = 40 };
	uint16_t used_before = drv_used_idx(&queues[1]);
	for (int i = 0; i < N; i++)
		add_big_read(10 + i, fh);
	drv_publish(&dev, &queues[1]);
	/* Reset as soon as the first answer is in: workers busy, jobs queued. */
	for (int spin = 0; spin < 100000000 && drv_used_idx(&queues[1]) == used_before; spin++)
		__builtin_ia32_pause();
	drv_set_status(&dev, 0);
	uint16_t used_then = drv_used_idx(&queues[1]);
	ok(drv_status(&dev) == 0, "reset with requests in flight (%u of %d answered before)",
	   (uint16_t)(used_then - used_before), N);
	for (int i = 0; i < N; i++)
		memset(slot_reply(10 + i), 0xaa, sizeof(struct fuse_out_header));
	memset(ram + DATA_GPA, 0xaa, BIG_FILE);
	nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	bool untouched = drv_used_idx(&queues[1]) == used_then;
	for (int i = 0; i < N; i++)
		untouched &= ((uint8_t *)slot_reply(10 + i))[0] == 0xaa;
	for (uint32_t i = 0; i < BIG_FILE; i += 4096)
		untouched &= ram[DATA_GPA + i] == 0xaa;
	ok(untouched, "no late writes into buffers or rings after the reset");

	ok(drv_setup(&dev, queues, ARRAY_SIZE(queues)), "new driver instance up");
	struct fuse_getattr_in ga = { 0 };
	ok(call(0, FUSE_GETATTR, FUSE_ROOT_ID, &ga, sizeof(ga), sizeof(struct fuse_attr_out)) == -EIO,
	   "the reset ended the FUSE session: GETATTR before INIT fails");
	struct fuse_init_in init = { .major = FUSE_KERNEL_VERSION,
				     .minor = FUSE_KERNEL_MINOR_VERSION };
	ok(call(1, FUSE_INIT, 0, &init, sizeof(init), sizeof(struct fuse_init_out)) == 0,
	   "INIT again");
	ok(call(2, FUSE_LOOKUP, FUSE_ROOT_ID, "hello.txt", 10, sizeof(struct fuse_entry_out)) == 0,
	   "LOOKUP again");
}

/* A READ whose reply room is one guest buffer listed many times. */
static int repeated_read(int slot, uint64_t node, uint64_t fh, uint32_t size, int copies,
			 uint32_t copy_len, uint32_t *used_len)
{
	uint64_t in = SLOT_GPA + slot * SLOT_SIZE, out = in + 0x1000;
	struct fuse_in_header h = { .len = sizeof(h) + sizeof(struct fuse_read_in),
				    .opcode = FUSE_READ, .unique = ++unique, .nodeid = node };
	struct fuse_read_in rd = { .fh = fh, .size = size };
	uint64_t gpa[QSIZE];
	uint32_t len[QSIZE];
	struct drv_queue *q = &queues[1];
	uint16_t want = (uint16_t)(drv_used_idx(q) + 1);

	memcpy(ram + in, &h, sizeof(h));
	memcpy(ram + in + sizeof(h), &rd, sizeof(rd));
	gpa[0] = in, len[0] = sizeof(h);
	gpa[1] = in + sizeof(h), len[1] = sizeof(rd);
	gpa[2] = out, len[2] = sizeof(struct fuse_out_header);
	for (int i = 0; i < copies; i++)
		gpa[3 + i] = DATA_GPA, len[3 + i] = copy_len;
	drv_add_chain(q, gpa, len, 3 + copies, 2);
	drv_publish(&dev, q);
	if (!drv_wait_used(q, want) || slot_reply(slot)->unique != h.unique)
		return 1;
	*used_len = drv_used_elem(q, want - 1).len;
	return slot_reply(slot)->error;
}

/* What a hostile driver may put in a chain: one buffer listed 250 times
 * offers 250 MiB of room, but no READ larger than max_write is served; the
 * high-priority queue serves only FORGETs. */
static void test_guest_bounds(void)
{
	struct fuse_open_in open_in = { .flags = O_RDONLY };
	uint32_t used = 0;

	ok(call(0, FUSE_LOOKUP, FUSE_ROOT_ID, "sparse.bin", 11, sizeof(struct fuse_entry_out)) == 0,
	   "LOOKUP a sparse 4 GiB file");
	uint64_t node = ((struct fuse_entry_out *)slot_body(0))->nodeid;
	ok(call(1, FUSE_OPEN, node, &open_in, sizeof(open_in), sizeof(struct fuse_open_out)) == 0,
	   "OPEN it");
	uint64_t fh = ((struct fuse_open_out *)slot_body(1))->fh;

	int r = repeated_read(2, node, fh, 250u << 20, 250, 1u << 20, &used);
	ok(r == -EINVAL && used == sizeof(struct fuse_out_header),
	   "a 250 MiB READ into one 1 MiB buffer listed 250 times: -EINVAL (%d)", r);
	r = repeated_read(3, node, fh, (1u << 20) + 4096, 250, 1u << 20, &used);
	ok(r == -EINVAL, "just over max_write: -EINVAL");
	r = repeated_read(4, node, fh, 1u << 20, 2, 1u << 19, &used);
	ok(r == 0 && used == sizeof(struct fuse_out_header) + (1u << 20),
	   "a 1 MiB READ over one 512 KiB buffer twice is still served");

	/* Anything but FORGET on the hiprio queue is answered, not served. */
	uint64_t in = SLOT_GPA + 5 * SLOT_SIZE, out = in + 0x1000;
	struct fuse_read_in rd = { .fh = fh, .size = 4096 };
	struct fuse_in_header h = { .len = sizeof(h) + sizeof(rd), .opcode = FUSE_READ,
				    .unique = ++unique, .nodeid = node };
	memcpy(ram + in, &h, sizeof(h));
	memcpy(ram + in + sizeof(h), &rd, sizeof(rd));
	uint64_t gpa[4] = { in, in + sizeof(h), out, DATA_GPA };
	uint32_t len[4] = { sizeof(h), sizeof(rd), sizeof(struct fuse_out_header), 4096 };
	uint16_t want = (uint16_t)(drv_used_idx(hiprio) + 1);
	drv_add_chain(hiprio, gpa, len, 4, 2);
	drv_publish(&dev, hiprio);
	ok(drv_wait_used(hiprio, want) && slot_reply(5)->unique == h.unique &&
		   slot_reply(5)->error == -EINVAL &&
		   drv_used_elem(hiprio, (uint16_t)(want - 1)).len == sizeof(struct fuse_out_header),
	   "a READ on the hiprio queue: -EINVAL, unserved");

	struct fuse_getattr_in ga = { 0 };
	ok(call(6, FUSE_GETATTR, node, &ga, sizeof(ga), sizeof(struct fuse_attr_out)) == 0,
	   "the request queue serves on");
}

static int make_share(void)
{
	char path[64];

	if (!mkdtemp(share))
		return -1;
	snprintf(path, sizeof(path), "%s/hello.txt", share);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int ret = write(fd, "hi there\n", 9) == 9 ? 0 : -1;
	close(fd);
	snprintf(path, sizeof(path), "%s/big.bin", share);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, BIG_FILE) < 0)
		ret = -1;
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/sparse.bin", share);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, 4ll << 30) < 0)
		ret = -1;
	if (fd >= 0)
		close(fd);
	return ret;
}

int main(void)
{
	novm_error_t err = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fake_vm_init(&vm, &ram, RAM_SIZE, &err) < 0 || make_share() < 0) {
		printf("1..0 # SKIP cannot set up a fake VM and share\n");
		return 0;
	}
	dev.ram = ram;

	ok(pci_init(&vm, &err) == 0, "pci_init");
	test_config_errors();
	test_graft_root();
	const struct virtio_fs_config_host cfg = { .tag = "testfs",
						   .root = share,
						   .nr_request_queues = NR_REQUEST_QUEUES,
						   .nr_workers = 2 };
	ok(virtio_fs_init(&vm, &cfg, &fs, &err) == 0, "virtio_fs_init");
	if (err) {
		novm_error_print(&err, "test-virtio-fs");
		return tap_done();
	}
	test_identity();
	if (ioloop_start(&vm.loop, &err) < 0) {
		novm_error_print(&err, "test-virtio-fs");
		return 1;
	}
	ok(drv_setup(&dev, queues, ARRAY_SIZE(queues)), "driver set up with EVENT_IDX");
	test_requests();
	test_burst();
	test_hiprio_and_malformed();
	test_reset();
	test_guest_bounds();

	ioloop_stop(&vm.loop);
	virtio_fs_exit(fs);
	ok(pci_bus_find(vm.pci, 0x1af4, FS_DEVICE_ID) == NULL, "virtio_fs_exit removed the device");
	virtio_fs_exit(NULL);
	pci_exit(&vm);
	fake_vm_destroy(&vm, ram);
	remove_tree(share, &err);
	novm_error_release(&err);
	return tap_done();
}
