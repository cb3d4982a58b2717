/* The split virtqueue against a fake guest: a malloc'd buffer registered as
 * guest RAM, rings and descriptors written the way a driver writes them.
 * Covers normal chains, indirect tables, every malformed-input check (each
 * must mark the queue broken, never crash), event-index suppression in both
 * directions and reset. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmm/memory.h"
#include "vmm/virtio/queue.h"

#define RAM_BASE 0x100000ULL
#define RAM_SIZE 0x100000ULL
#define QSIZE 16
#define DESC_GPA (RAM_BASE + 0x0000)
#define AVAIL_GPA (RAM_BASE + 0x1000)
#define USED_GPA (RAM_BASE + 0x2000)
#define INDIRECT_GPA (RAM_BASE + 0x3000)
#define DATA_GPA (RAM_BASE + 0x10000)

static uint8_t *ram;
static struct guest_memory mem;
static struct virtq q;
static struct virtq_req req;
static int interrupts, broken_calls;
static const char *last_why;

static void on_interrupt(struct virtq *vq)
{
	interrupts++;
}

static void on_broken(struct virtq *vq, const char *why)
{
	broken_calls++;
	last_why = why;
}

static const struct virtq_ops ops = { .interrupt = on_interrupt, .broken = on_broken };

static void *gpa(uint64_t addr)
{
	return ram + (addr - RAM_BASE);
}

static struct vring_desc *desc_table(void)
{
	return gpa(DESC_GPA);
}

static struct vring_avail *avail(void)
{
	return gpa(AVAIL_GPA);
}

static struct vring_used *used(void)
{
	return gpa(USED_GPA);
}

static uint16_t *used_event(void)
{
	return &avail()->ring[QSIZE];
}

static uint16_t *avail_event(void)
{
	return (uint16_t *)&used()->ring[QSIZE];
}

static void set_desc(struct vring_desc *table, int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	table[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* Publishes a head the way a driver does: entry first, then the index. */
static void publish(uint16_t head)
{
	struct vring_avail *a = avail();
	a->ring[a->idx % QSIZE] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
}

static int setup(bool event_idx, bool indirect)
{
	const char *why;
	memset(ram, 0, RAM_SIZE);
	virtq_reset(&q);
	interrupts = broken_calls = 0;
	last_why = NULL;
	struct virtq_layout l = { QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA };
	return virtq_enable(&q, &l, 256, event_idx, indirect, &why);
}

static void test_enable_checks(void)
{
	const char *why;
	struct virtq_layout l = { QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA };

	l.size = 12;
	ok(virtq_enable(&q, &l, 256, false, false, &why) < 0 && !virtq_is_ready(&q),
	   "queue size not a power of two is refused");
	l.size = 512;
	ok(virtq_enable(&q, &l, 256, false, false, &why) < 0, "queue size above the maximum is refused");
	l.size = 0;
	ok(virtq_enable(&q, &l, 256, false, false, &why) < 0, "queue size 0 is refused");
	l = (struct virtq_layout){ QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA };
	ok(virtq_enable(&q, &l, 256, false, false, &why) < 0, "misaligned descriptor table is refused");
	l = (struct virtq_layout){ QSIZE, DESC_GPA, AVAIL_GPA, RAM_BASE + RAM_SIZE - 16 };
	ok(virtq_enable(&q, &l, 256, false, false, &why) < 0,
	   "used ring running past the end of RAM is refused");
	l = (struct virtq_layout){ QSIZE, 0x1000, AVAIL_GPA, USED_GPA };
	ok(virtq_enable(&q, &l, 256, false, false, &why) < 0, "descriptor table outside RAM is refused");
	ok(setup(false, false) == 0 && virtq_is_ready(&q), "a valid layout enables the queue");
}

static void test_simple_chain(void)
{
	setup(false, false);
	ok(virtq_pop(&q, &req) == 0, "empty ring pops nothing");

	/* head 3: two readable buffers then one writable */
	set_desc(desc_table(), 3, DATA_GPA, 10, VRING_DESC_F_NEXT, 7);
	set_desc(desc_table(), 7, DATA_GPA + 0x100, 20, VRING_DESC_F_NEXT, 1);
	set_desc(desc_table(), 1, DATA_GPA + 0x200, 64, VRING_DESC_F_WRITE, 0);
	memcpy(gpa(DATA_GPA), "0123456789", 10);
	memcpy(gpa(DATA_GPA + 0x100), "abcdefghijklmnopqrst", 20);
	publish(3);

	int r = virtq_pop(&q, &req);
	ok(r == 1 && req.head == 3, "pop returns the published head");
	ok(req.nr_readable == 2 && req.nr_writable == 1, "two readable and one writable segment");
	ok(req.iov[0].iov_base == gpa(DATA_GPA) && req.iov[0].iov_len == 10 &&
		   req.iov[1].iov_base == gpa(DATA_GPA + 0x100) && req.iov[2].iov_len == 64,
	   "segments point at the guest buffers");
	ok(req.readable_len == 30 && req.writable_len == 64, "byte totals");

	char buf[32] = { 0 };
	ok(virtq_req_read(&req, 8, buf, 6) == 6 && !memcmp(buf, "89abcd", 6),
	   "virtq_req_read crosses segments");
	ok(virtq_req_write(&req, 60, "wxyz!!", 6) == 4 && !memcmp(gpa(DATA_GPA + 0x200 + 60), "wxyz", 4),
	   "virtq_req_write stops at the end of the writable space");
	ok(virtq_pop(&q, &req) == 0, "ring is empty again");

	virtq_push(&q, &req, 1000);
	ok(used()->idx == 1 && used()->ring[0].id == 3, "push fills the used ring and index");
	ok(used()->ring[0].len == 64, "written length is clamped to the writable total");
	ok(virtq_notify(&q) && interrupts == 1, "notify interrupts the driver");
	ok(!virtq_notify(&q) && interrupts == 1, "no second interrupt without new used entries");

	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	set_desc(desc_table(), 0, DATA_GPA, 8, VRING_DESC_F_WRITE, 0);
	publish(0);
	ok(virtq_pop(&q, &req) == 1 && req.nr_readable == 0 && req.nr_writable == 1,
	   "write-only chain");
	virtq_push(&q, &req, 8);
	ok(!virtq_notify(&q) && interrupts == 1, "VRING_AVAIL_F_NO_INTERRUPT suppresses the interrupt");
	ok(broken_calls == 0, "no error reported for valid chains");
}

static void test_indirect(void)
{
	struct vring_desc *ind = gpa(INDIRECT_GPA);

	setup(false, true);
	set_desc(ind, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 2);
	set_desc(ind, 2, DATA_GPA + 0x100, 32, VRING_DESC_F_NEXT, 1);
	set_desc(ind, 1, DATA_GPA + 0x200, 48, VRING_DESC_F_WRITE, 0);
	set_desc(desc_table(), 5, INDIRECT_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(5);
	ok(virtq_pop(&q, &req) == 1 && req.head == 5 && req.nr_readable == 2 &&
		   req.nr_writable == 1 && req.iov[1].iov_len == 32 &&
		   req.iov[2].iov_base == gpa(DATA_GPA + 0x200),
	   "indirect table is followed");

	/* A direct descriptor before the indirect one is allowed too. */
	set_desc(desc_table(), 6, DATA_GPA + 0x300, 4, VRING_DESC_F_NEXT, 5);
	publish(6);
	ok(virtq_pop(&q, &req) == 1 && req.nr_readable == 3 && req.iov[0].iov_len == 4,
	   "direct descriptor chained into an indirect table");

	setup(false, false);
	set_desc(desc_table(), 5, INDIRECT_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(5);
	ok(virtq_pop(&q, &req) < 0 && broken_calls == 1, "indirect without the feature breaks the queue");
}

/* Publishes `head` on a fresh queue and expects the chain to be refused. */
static void expect_broken(const char *what, bool indirect, void (*build)(void), uint16_t head)
{
	setup(false, indirect);
	build();
	publish(head);
	int r = virtq_pop(&q, &req);
	ok(r < 0 && broken_calls == 1 && last_why, "%s: queue marked broken (%s)", what,
	   last_why ? last_why : "no reason");
	ok(virtq_pop(&q, &req) < 0 && broken_calls == 1, "%s: a broken queue stays stopped", what);
	virtq_push(&q, &req, 0);
	ok(used()->idx == 0, "%s: nothing reaches the used ring", what);
}

static void build_loop(void)
{
	set_desc(desc_table(), 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(desc_table(), 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 0);
}

static void build_self_loop(void)
{
	set_desc(desc_table(), 4, DATA_GPA, 8, VRING_DESC_F_NEXT, 4);
}

static void build_outside(void)
{
	set_desc(desc_table(), 0, RAM_BASE + RAM_SIZE - 4, 8, 0, 0);
}

static void build_wrapping(void)
{
	set_desc(desc_table(), 0, UINT64_MAX - 3, 8, 0, 0);
}

static void build_next_out_of_range(void)
{
	set_desc(desc_table(), 0, DATA_GPA, 8, VRING_DESC_F_NEXT, QSIZE);
}

static void build_nothing(void)
{
}

static void build_readable_after_writable(void)
{
	set_desc(desc_table(), 0, DATA_GPA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(desc_table(), 1, DATA_GPA, 8, 0, 0);
}

static void build_indirect_bad_len(void)
{
	set_desc(desc_table(), 0, INDIRECT_GPA, 20, VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_nested(void)
{
	struct vring_desc *ind = gpa(INDIRECT_GPA);
	set_desc(ind, 0, INDIRECT_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(desc_table(), 0, INDIRECT_GPA, 16, VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_loop(void)
{
	struct vring_desc *ind = gpa(INDIRECT_GPA);
	set_desc(ind, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(ind, 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 0);
	set_desc(desc_table(), 0, INDIRECT_GPA, 32, VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_next_out_of_table(void)
{
	struct vring_desc *ind = gpa(INDIRECT_GPA);
	set_desc(ind, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 2);
	set_desc(desc_table(), 0, INDIRECT_GPA, 32, VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_outside(void)
{
	set_desc(desc_table(), 0, RAM_BASE + RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_with_next(void)
{
	struct vring_desc *ind = gpa(INDIRECT_GPA);
	set_desc(ind, 0, DATA_GPA, 8, 0, 0);
	set_desc(desc_table(), 0, INDIRECT_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
}

static void test_malformed(void)
{
	expect_broken("two-descriptor loop", false, build_loop, 0);
	expect_broken("self loop", false, build_self_loop, 4);
	expect_broken("buffer past the end of RAM", false, build_outside, 0);
	expect_broken("buffer address wrapping around", false, build_wrapping, 0);
	expect_broken("next index out of range", false, build_next_out_of_range, 0);
	expect_broken("head index out of range", false, build_nothing, QSIZE + 3);
	expect_broken("readable after writable", false, build_readable_after_writable, 0);
	expect_broken("indirect length not a multiple of 16", true, build_indirect_bad_len, 0);
	expect_broken("nested indirect", true, build_indirect_nested, 0);
	expect_broken("loop inside an indirect table", true, build_indirect_loop, 0);
	expect_broken("next beyond the indirect table", true, build_indirect_next_out_of_table, 0);
	expect_broken("indirect table outside RAM", true, build_indirect_outside, 0);
	expect_broken("indirect with NEXT", true, build_indirect_with_next, 0);

	/* The driver claims more entries than the ring holds. */
	setup(false, false);
	avail()->idx = QSIZE + 1;
	ok(virtq_pop(&q, &req) < 0 && broken_calls == 1, "available index jumping past the size breaks");

	/* A chain exactly as long as the queue is fine. */
	setup(false, false);
	for (int i = 0; i < QSIZE; i++)
		set_desc(desc_table(), i, DATA_GPA + i, 1, i + 1 < QSIZE ? VRING_DESC_F_NEXT : 0, i + 1);
	publish(0);
	ok(virtq_pop(&q, &req) == 1 && req.nr_readable == QSIZE, "chain of queue-size length accepted");
}

static void test_event_idx(void)
{
	setup(true, false);
	for (int i = 0; i < 4; i++)
		set_desc(desc_table(), i, DATA_GPA + 0x100 * i, 8, VRING_DESC_F_WRITE, 0);

	/* Driver: interrupt me once 2 entries are used (used_event = 1). */
	*used_event() = 1;
	publish(0);
	publish(1);
	publish(2);
	ok(virtq_pop(&q, &req) == 1, "pop first");
	virtq_push(&q, &req, 8);
	ok(virtq_notify(&q) && interrupts == 1, "first notify always interrupts");

	ok(virtq_pop(&q, &req) == 1, "pop second");
	virtq_push(&q, &req, 8);	/* used idx 2: crosses used_event 1 */
	ok(virtq_notify(&q) && interrupts == 2, "interrupt when the used index passes used_event");

	ok(virtq_pop(&q, &req) == 1, "pop third");
	virtq_push(&q, &req, 8);	/* used idx 3: used_event still 1 */
	ok(!virtq_notify(&q) && interrupts == 2, "suppressed while used_event is behind");

	*used_event() = 3;
	*avail_event() = 0xbeef;
	ok(virtq_pop(&q, &req) == 0, "ring drained");
	ok(*avail_event() == 3, "going idle publishes avail_event = next index to consume");

	publish(3);
	ok(virtq_pop(&q, &req) == 1 && req.head == 3, "pop fourth");
	virtq_push(&q, &req, 8);	/* used idx 4: passes used_event 3 */
	ok(virtq_notify(&q) && interrupts == 3, "interrupt once used_event is reached again");
}

static void test_reset(void)
{
	setup(false, false);
	set_desc(desc_table(), 0, DATA_GPA, 8, VRING_DESC_F_WRITE, 0);
	publish(0);
	ok(virtq_pop(&q, &req) == 1, "pop before reset");

	struct virtq_req stale = req;
	setup(false, false);	/* reset + re-enable, as a new driver would */
	virtq_push(&q, &stale, 8);
	ok(used()->idx == 0 && !virtq_notify(&q), "request from before the reset is dropped");

	virtq_reset(&q);
	ok(!virtq_is_ready(&q) && virtq_pop(&q, &req) == 0, "a reset queue pops nothing");
}

/* The diagnosis shows the driver's indices next to ours: after two entries
 * published and one consumed, last_avail 1 against avail_idx 2. */
static void test_describe(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	setup(true, false);
	set_desc(desc_table(), 0, DATA_GPA, 8, VRING_DESC_F_WRITE, 0);
	set_desc(desc_table(), 1, DATA_GPA + 0x100, 8, VRING_DESC_F_WRITE, 0);
	publish(0);
	publish(1);
	*used_event() = 7;
	ok(virtq_pop(&q, &req) == 1, "pop one of two");
	virtq_push(&q, &req, 8);
	out = open_memstream(&text, &len);
	virtq_describe(&q, out);
	fclose(out);
	ok(text && strstr(text, "\"ready\":true") && strstr(text, "\"last_avail\":1,\"avail_idx\":2") &&
		   strstr(text, "\"used_idx\":1,\"used_event\":7") &&
		   strstr(text, "\"need_notify\":true"),
	   "describe: our indices next to the driver's (%s)", text ? text : "");
	free(text);

	virtq_reset(&q);
	text = NULL;
	out = open_memstream(&text, &len);
	virtq_describe(&q, out);
	fclose(out);
	ok(text && !strcmp(text, "{\"index\":0,\"ready\":false,\"broken\":false}"),
	   "describe: a stopped queue says only that (%s)", text ? text : "");
	free(text);
}

int main(void)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	if (!ram || guest_memory_add(&mem, RAM_BASE, RAM_SIZE, ram) < 0) {
		printf("1..0 # SKIP no memory\n");
		return 0;
	}
	virtq_init(&q, &mem, &ops, NULL, 0);

	test_enable_checks();
	test_simple_chain();
	test_indirect();
	test_malformed();
	test_event_idx();
	test_reset();
	test_describe();

	virtq_destroy(&q);
	free(ram);
	return tap_done();
}
