/* Directory listing across many calls (offsets, buffer limits, lookup
 * counts of READDIRPLUS) and the tables under concurrent requests. */
#include <pthread.h>

#include "fuse-client.h"

#define NFILES 1000

struct listing {
	unsigned char seen[NFILES];
	int dots, dup, bad, other, calls;
	uint64_t nodeids[NFILES];
	size_t max_body;
};

/* Checks one reply's records and notes the names; returns the last
 * entry's offset, or 0 when the reply was empty. */
static uint64_t parse_listing(struct listing *l, const unsigned char *p, size_t len, bool plus)
{
	size_t head = plus ? sizeof(struct fuse_direntplus) : sizeof(struct fuse_dirent);
	uint64_t last = 0;

	for (size_t pos = 0; pos < len;) {
		const struct fuse_dirent *d = (const void *)(p + pos + head - sizeof(struct fuse_dirent));
		const struct fuse_entry_out *e = (const void *)(p + pos);
		size_t rec = FUSE_REC_ALIGN(head + d->namelen);
		char name[NAME_MAX + 1];

		if (d->namelen == 0 || d->namelen > NAME_MAX || pos + rec > len) {
			l->bad++;
			break;
		}
		memcpy(name, d->name, d->namelen);
		name[d->namelen] = '\0';
		last = d->off;
		pos += rec;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			l->dots++;
			if (plus && e->nodeid != 0)
				l->bad++;
			continue;
		}
		int i;
		if (sscanf(name, "file-%d", &i) != 1 || i < 0 || i >= NFILES) {
			l->other++;
			continue;
		}
		if (l->seen[i]++)
			l->dup++;
		if (plus) {
			if (e->nodeid == 0 || e->attr.ino != d->ino || !S_ISREG(e->attr.mode) ||
			    e->attr.size != (uint64_t)i % 7)
				l->bad++;
			l->nodeids[i] = e->nodeid;
		}
	}
	return last;
}

static void list_dir(struct listing *l, uint64_t fh, bool plus, uint32_t size)
{
	uint64_t off = 0;

	memset(l, 0, sizeof(*l));
	for (;;) {
		size_t got;
		int r = t_read_op(plus ? FUSE_READDIRPLUS : FUSE_READDIR, FUSE_ROOT_ID, fh, off, size, &got);
		if (r < 0 || got == 0 || l->calls > 10 * NFILES)
			break;
		l->calls++;
		if (got > l->max_body)
			l->max_body = got;
		off = parse_listing(l, tr_body(T), got, plus);
	}
}

static int count_seen(const struct listing *l)
{
	int n = 0;
	for (int i = 0; i < NFILES; i++)
		n += l->seen[i] != 0;
	return n;
}

static void test_listing(void)
{
	struct listing *l = calloc(1, sizeof(*l));
	uint64_t fh;

	for (int i = 0; i < NFILES; i++) {
		char name[32], data[8] = "abcdefg";
		snprintf(name, sizeof(name), "file-%d", i);
		data[i % 7] = '\0';
		host_write(name, data);
	}
	ok(t_opendir(FUSE_ROOT_ID, &fh) == 0, "OPENDIR of the root");

	list_dir(l, fh, true, 4096);
	ok(count_seen(l) == NFILES && l->dup == 0 && l->other == 0 && l->bad == 0,
	   "READDIRPLUS lists all %d files once with their attributes (%d seen, %d dup, %d bad)",
	   NFILES, count_seen(l), l->dup, l->bad);
	ok(l->dots == 2, "and . and .. (node id 0)");
	ok(l->calls > 10, "across %d calls", l->calls);
	ok(l->max_body <= 4096, "no reply larger than the size asked (%zu)", l->max_body);

	struct fuse_attr a;
	ok(t_getattr(l->nodeids[123], &a) == 0 && a.size == 123 % 7,
	   "READDIRPLUS node ids are real lookups");
	/* Each node was handed out once: one BATCH_FORGET ends them all. */
	tr_begin(T, FUSE_BATCH_FORGET, 0);
	struct fuse_batch_forget_in bf = { .count = NFILES };
	tr_add(T, &bf, sizeof(bf));
	for (int i = 0; i < NFILES; i++) {
		struct fuse_forget_one one = { .nodeid = l->nodeids[i], .nlookup = 1 };
		tr_add(T, &one, sizeof(one));
	}
	ok(tr_send(T, S) == 0 && T->ret == 0, "BATCH_FORGET gets no reply");
	int stale = 0;
	for (int i = 0; i < NFILES; i += 37)
		stale += t_getattr(l->nodeids[i], NULL) == -ESTALE;
	ok(stale == (NFILES + 36) / 37, "after it the node ids are stale: lookup counts matched");

	list_dir(l, fh, false, 1024);
	ok(count_seen(l) == NFILES && l->dup == 0 && l->bad == 0 && l->dots == 2,
	   "READDIR with 1 KiB buffers lists everything once (%d calls)", l->calls);

	/* Offer less room than the size asked: the room wins. */
	T->outcap = sizeof(struct fuse_out_header) + 300;
	size_t got;
	ok(t_read_op(FUSE_READDIR, FUSE_ROOT_ID, fh, 0, 65536, &got) == 0 && got > 0 && got <= 300,
	   "READDIR never overruns the reply buffer (%zu bytes)", got);
	T->outcap = sizeof(struct fuse_out_header) + 100;
	ok(t_read_op(FUSE_READDIRPLUS, FUSE_ROOT_ID, fh, 0, 65536, &got) == 0 && got == 0,
	   "READDIRPLUS with no room for one entry returns none");
	T->outcap = TR_BUF;

	T->split = 5;
	list_dir(l, fh, false, 2000);
	ok(count_seen(l) == NFILES && l->dup == 0 && l->bad == 0,
	   "READDIR into 5-byte reply segments");
	T->split = 0;

	uint64_t ffh;
	struct fuse_entry_out e;
	t_lookup(FUSE_ROOT_ID, "file-1", &e);
	t_open(e.nodeid, O_RDONLY, &ffh);
	ok(t_read_op(FUSE_READDIR, FUSE_ROOT_ID, ffh, 0, 4096, NULL) == -EBADF,
	   "a file handle is no directory handle");
	ok(t_read(e.nodeid, fh, 0, 10, NULL) == -EBADF, "and a directory handle no file handle");
	ok(t_opendir(e.nodeid, NULL) == -ENOTDIR, "OPENDIR of a file: ENOTDIR");
	ok(t_open(FUSE_ROOT_ID, O_RDONLY, NULL) == -EISDIR, "OPEN of a directory: EISDIR");
	t_release(e.nodeid, ffh);

	struct fuse_fsync_in fs = { .fh = fh };
	tr_begin(T, FUSE_FSYNCDIR, FUSE_ROOT_ID);
	tr_add(T, &fs, sizeof(fs));
	ok(tr_send(T, S) == 0, "FSYNCDIR");
	ok(t_release_op(FUSE_RELEASEDIR, FUSE_ROOT_ID, fh) == 0, "RELEASEDIR");
	ok(t_read_op(FUSE_READDIR, FUSE_ROOT_ID, fh, 0, 4096, NULL) == -EBADF, "released: EBADF");
	ok(t_release_op(FUSE_RELEASEDIR, FUSE_ROOT_ID, fh) == -EBADF, "double RELEASEDIR: EBADF");
	free(l);
}

/* Several workers race lookups, forgets, getattrs, opens, reads and
 * directory reads on the same few files, as virtio-fs worker threads do. */
struct worker {
	pthread_t thread;
	int id;
	int errors;
};

static void *worker_main(void *opaque)
{
	struct worker *w = opaque;
	struct treq *t = treq_new();

	for (int iter = 0; iter < 3000; iter++) {
		char name[32];
		snprintf(name, sizeof(name), "file-%d", (iter * 7 + w->id) % 8);

		tr_begin(t, FUSE_LOOKUP, FUSE_ROOT_ID);
		tr_str(t, name);
		if (tr_send(t, S) != 0) {
			w->errors++;
			continue;
		}
		uint64_t nodeid = ((struct fuse_entry_out *)tr_body(t))->nodeid;

		struct fuse_getattr_in ga = { 0 };
		tr_begin(t, FUSE_GETATTR, nodeid);
		tr_add(t, &ga, sizeof(ga));
		if (tr_send(t, S) != 0)
			w->errors++;

		struct fuse_open_in oi = { .flags = O_RDONLY };
		tr_begin(t, FUSE_OPEN, nodeid);
		tr_add(t, &oi, sizeof(oi));
		if (tr_send(t, S) == 0) {
			uint64_t fh = ((struct fuse_open_out *)tr_body(t))->fh;
			struct fuse_read_in ri = { .fh = fh, .size = 16 };
			tr_begin(t, FUSE_READ, nodeid);
			tr_add(t, &ri, sizeof(ri));
			if (tr_send(t, S) != 0)
				w->errors++;
			struct fuse_release_in rl = { .fh = fh };
			tr_begin(t, FUSE_RELEASE, nodeid);
			tr_add(t, &rl, sizeof(rl));
			tr_send(t, S);
		} else {
			w->errors++;
		}

		if (iter % 100 == 0) {
			struct fuse_open_in od = { 0 };
			tr_begin(t, FUSE_OPENDIR, FUSE_ROOT_ID);
			tr_add(t, &od, sizeof(od));
			if (tr_send(t, S) == 0) {
				uint64_t fh = ((struct fuse_open_out *)tr_body(t))->fh;
				struct fuse_read_in ri = { .fh = fh, .size = 4096 };
				tr_begin(t, FUSE_READDIRPLUS, FUSE_ROOT_ID);
				tr_add(t, &ri, sizeof(ri));
				if (tr_send(t, S) == 0) {
					/* Give back what READDIRPLUS handed out. */
					unsigned char *p = tr_body(t);
					size_t len = tr_body_len(t);
					for (size_t pos = 0; pos < len;) {
						struct fuse_direntplus *d = (void *)(p + pos);
						pos += FUSE_DIRENTPLUS_SIZE(d);
						if (d->entry_out.nodeid) {
							struct fuse_forget_in fi = { .nlookup = 1 };
							struct treq *f = treq_new();
							tr_begin(f, FUSE_FORGET, d->entry_out.nodeid);
							tr_add(f, &fi, sizeof(fi));
							tr_send(f, S);
							treq_free(f);
						}
					}
				}
				struct fuse_release_in rl = { .fh = fh };
				tr_begin(t, FUSE_RELEASEDIR, FUSE_ROOT_ID);
				tr_add(t, &rl, sizeof(rl));
				tr_send(t, S);
			}
		}

		struct fuse_forget_in fi = { .nlookup = 1 };
		tr_begin(t, FUSE_FORGET, nodeid);
		tr_add(t, &fi, sizeof(fi));
		tr_send(t, S);
	}
	treq_free(t);
	return NULL;
}

static void test_concurrency(void)
{
	struct worker w[4];
	int errors = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .id = i };
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].thread, NULL);
		errors += w[i].errors;
	}
	ok(errors == 0, "4 threads racing lookup/getattr/open/read/forget: no failures (%d)", errors);

	/* Every lookup was forgotten: a fresh one must be a new node. */
	struct fuse_entry_out e1, e2;
	t_lookup(FUSE_ROOT_ID, "file-3", &e1);
	t_lookup(FUSE_ROOT_ID, "file-3", &e2);
	ok(e1.nodeid == e2.nodeid, "lookups still agree afterwards");
	t_forget(e1.nodeid, 2);
	ok(t_getattr(e1.nodeid, NULL) == -ESTALE, "and counts are exact");
}

/* rm -rf's pattern: each reply's files are removed before the next call,
 * and every file is still listed once.  Then a rewind (offset 0 again)
 * starts over with what is left. */
static void test_listing_while_removing(void)
{
	struct listing *l = calloc(1, sizeof(*l));
	uint64_t fh, off = 0;
	char p[PATH_MAX * 2 + 32];
	size_t got;

	for (int i = 0; i < NFILES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "file-%d", i);
		host_write(name, "x");
	}
	ok(t_opendir(FUSE_ROOT_ID, &fh) == 0, "OPENDIR for removal");
	for (;;) {
		int r = t_read_op(FUSE_READDIR, FUSE_ROOT_ID, fh, off, 1024, &got);
		if (r < 0 || got == 0 || l->calls > 10 * NFILES)
			break;
		l->calls++;
		struct listing before = *l;
		off = parse_listing(l, tr_body(T), got, false);
		for (int i = 0; i < NFILES; i++) {
			if (l->seen[i] && !before.seen[i]) {
				snprintf(p, sizeof(p), "%s/file-%d", share, i);
				unlink(p);
			}
		}
	}
	ok(count_seen(l) == NFILES && l->dup == 0 && l->bad == 0,
	   "files removed between calls do not hide the others (%d of %d seen, %d calls)",
	   count_seen(l), NFILES, l->calls);

	host_write("kept", "x");
	memset(l, 0, sizeof(*l));
	ok(t_read_op(FUSE_READDIR, FUSE_ROOT_ID, fh, 0, 4096, &got) == 0, "READDIR from 0 again");
	parse_listing(l, tr_body(T), got, false);
	ok(count_seen(l) == 0 && l->other == 1 && l->dots == 2,
	   "the rewound listing has only what is left (%d files, %d other)", count_seen(l), l->other);
	t_release_op(FUSE_RELEASEDIR, FUSE_ROOT_ID, fh);
	free(l);
}

int main(void)
{
	char base[PATH_MAX];

	if (fixture_begin(base, 300) < 0)
		return 0;
	T = treq_new();
	S = fixture_server(false);
	ok(S != NULL, "fuse_server_new");
	if (S) {
		t_init();
		test_listing();
		test_concurrency();
		test_listing_while_removing();
		fuse_server_free(S);
	}
	treq_free(T);
	fixture_cleanup(base);
	return tap_done();
}
