#include "virtio/fs.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>

#include "cleanup.h"
#include "devices/pci.h"
#include "fuse/server.h"
#include "kvm.h"
#include "proto/agent.h"
#include "virtio/core.h"
#include "virtio/pci.h"
#include "vmm-internal.h"

#define HIPRIO_QUEUE 0
/* Room for a 1 MiB read or write (FUSE max_pages) in one direct chain even
 * without indirect descriptors, plus the headers. */
#define FS_QUEUE_SIZE 512
#define FS_DEFAULT_WORKERS 2
/* Requests popped but not yet answered, per worker: enough to keep every
 * worker busy.  The rest wait in the rings.  This also bounds what a guest
 * that publishes the same chain over and over can make us hold. */
#define FS_JOBS_PER_WORKER 4
#define PCI_CLASS_STORAGE_OTHER 0x018000

/* One request between the I/O loop thread and a worker. */
struct fs_job {
	struct fs_job *next;
	struct virtq *q;
	struct virtq_req req;
};

struct virtio_fs {
	struct virtio_device vdev;	/* first: the core hands us this pointer */
	struct fuse_server *srv;

	/* Held while the I/O loop serves the hiprio queue, so a reset waits
	 * for it. */
	pthread_mutex_t hiprio_lock;
	struct virtq_req hiprio_req;

	/* The worker pool; lock guards everything below. */
	pthread_mutex_t lock;
	pthread_cond_t work_ready;	/* a job is pending, or stopping */
	pthread_cond_t idle;		/* in_flight dropped to 0 */
	struct fs_job *pending, **pending_tail;	/* FIFO in pop order */
	struct fs_job *free_jobs;	/* all allocated up front */
	/* Jobs out of the free list: being popped by the I/O loop, pending,
	 * or served.  A reset waits for 0. */
	unsigned in_flight;
	/* Queues that stopped popping because no job was free; kicked again
	 * when one is. */
	uint32_t starved;
	bool stopping;
	pthread_t workers[VIRTIO_FS_MAX_WORKERS];
	int nr_workers;
};

static struct virtio_fs *from_vdev(struct virtio_device *vdev)
{
	return (struct virtio_fs *)vdev;
}

/* Bytes of a reply for virtq_push: errors and "no reply" are 0. */
static uint32_t written_bytes(ssize_t n)
{
	if (n <= 0)
		return 0;
	return (uint64_t)n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Runs one FUSE request and hands the chain back.  A request too malformed
 * to answer is returned with nothing written: the driver's problem, and the
 * ring keeps moving. */
static void serve(struct virtio_fs *fs, struct virtq *q, struct virtq_req *req)
{
	ssize_t n = q->index == HIPRIO_QUEUE
			    ? fuse_server_handle_hiprio(fs->srv, req->iov, (int)req->nr_readable,
							req->iov + req->nr_readable,
							(int)req->nr_writable)
			    : fuse_server_handle(fs->srv, req->iov, (int)req->nr_readable,
						 req->iov + req->nr_readable, (int)req->nr_writable);
	virtq_push(q, req, written_bytes(n));
	virtq_notify(q);
}

/* --- the job pool --- */

/* NULL when the pool is exhausted; `index` is then kicked once a job is
 * back. */
static struct fs_job *job_get(struct virtio_fs *fs, uint16_t index)
{
	struct fs_job *job = NULL;

	pthread_mutex_lock(&fs->lock);
	job = fs->free_jobs;
	if (job) {
		fs->free_jobs = job->next;
		fs->in_flight++;
	} else {
		fs->starved |= 1u << index;
	}
	pthread_mutex_unlock(&fs->lock);
	return job;
}

static void job_put_locked(struct virtio_fs *fs, struct fs_job *job)
{
	job->next = fs->free_jobs;
	fs->free_jobs = job;
	/* Kick while still counted in flight: once in_flight is 0 a reset or
	 * teardown may close the kick eventfds. */
	for (uint16_t i = 0; fs->starved; i++)
		if (fs->starved & (1u << i)) {
			fs->starved &= ~(1u << i);
			virtio_queue_kick(&fs->vdev, i);
		}
	if (--fs->in_flight == 0)
		pthread_cond_broadcast(&fs->idle);
}

static void job_put(struct virtio_fs *fs, struct fs_job *job)
{
	pthread_mutex_lock(&fs->lock);
	job_put_locked(fs, job);
	pthread_mutex_unlock(&fs->lock);
}

static void job_submit(struct virtio_fs *fs, struct fs_job *job)
{
	pthread_mutex_lock(&fs->lock);
	job->next = NULL;
	*fs->pending_tail = job;
	fs->pending_tail = &job->next;
	pthread_cond_signal(&fs->work_ready);
	pthread_mutex_unlock(&fs->lock);
}

static struct fs_job *job_take_locked(struct virtio_fs *fs)
{
	struct fs_job *job = fs->pending;

	if (job) {
		fs->pending = job->next;
		if (!fs->pending)
			fs->pending_tail = &fs->pending;
	}
	return job;
}

static void *worker_main(void *arg)
{
	struct virtio_fs *fs = arg;

	pthread_mutex_lock(&fs->lock);
	for (;;) {
		while (!fs->stopping && !fs->pending)
			pthread_cond_wait(&fs->work_ready, &fs->lock);
		if (fs->stopping)
			break;
		struct fs_job *job = job_take_locked(fs);
		pthread_mutex_unlock(&fs->lock);
		serve(fs, job->q, &job->req);
		pthread_mutex_lock(&fs->lock);
		job_put_locked(fs, job);
	}
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

/* --- device ops --- */

/* I/O loop thread. */
static void serve_hiprio(struct virtio_fs *fs)
{
	struct virtq *q = &fs->vdev.queues[HIPRIO_QUEUE];

	/* FORGET and INTERRUPT need no reply and no file I/O: cheap enough to
	 * serve right here, and they never wait behind slow requests.  The
	 * server refuses anything else that comes this way. */
	pthread_mutex_lock(&fs->hiprio_lock);
	while (virtq_pop(q, &fs->hiprio_req) > 0)
		serve(fs, q, &fs->hiprio_req);
	pthread_mutex_unlock(&fs->hiprio_lock);
}

/* I/O loop thread. */
static void fs_queue_notify(struct virtio_device *vdev, uint16_t index)
{
	struct virtio_fs *fs = from_vdev(vdev);
	struct virtq *q = &vdev->queues[index];

	if (index == HIPRIO_QUEUE) {
		serve_hiprio(fs);
		return;
	}
	for (;;) {
		struct fs_job *job = job_get(fs, index);
		if (!job)
			return;	/* job_put kicks us again */
		if (virtq_pop(q, &job->req) <= 0) {
			job_put(fs, job);
			return;
		}
		job->q = q;
		job_submit(fs, job);
	}
}

/* vCPU thread, vdev->lock held, queues stopped. */
static void fs_reset(struct virtio_device *vdev)
{
	struct virtio_fs *fs = from_vdev(vdev);

	pthread_mutex_lock(&fs->hiprio_lock);
	pthread_mutex_unlock(&fs->hiprio_lock);

	pthread_mutex_lock(&fs->lock);
	/* Requests no worker started on are dropped unserved: their buffers
	 * belong to the next driver now.  Those being served are waited for. */
	struct fs_job *job;
	while ((job = job_take_locked(fs)))
		job_put_locked(fs, job);
	while (fs->in_flight)
		pthread_cond_wait(&fs->idle, &fs->lock);
	fs->starved = 0;
	pthread_mutex_unlock(&fs->lock);

	/* The next driver starts with FUSE_INIT and knows no node ids. */
	fuse_server_reset(fs->srv);
}

static void stop_workers(struct virtio_fs *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->stopping = true;
	pthread_cond_broadcast(&fs->work_ready);
	pthread_mutex_unlock(&fs->lock);
	for (int i = 0; i < fs->nr_workers; i++)
		pthread_join(fs->workers[i], NULL);
	fs->nr_workers = 0;
}

static void free_job_list(struct fs_job *job)
{
	while (job) {
		struct fs_job *next = job->next;
		free(job);
		job = next;
	}
}

/* Also the undo of a half-done virtio_fs_init: everything tolerates "not
 * there yet". */
static void fs_destroy(struct virtio_device *vdev)
{
	struct virtio_fs *fs = from_vdev(vdev);

	stop_workers(fs);
	free_job_list(fs->pending);
	free_job_list(fs->free_jobs);
	fuse_server_free(fs->srv);
	pthread_cond_destroy(&fs->idle);
	pthread_cond_destroy(&fs->work_ready);
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->hiprio_lock);
	free(fs);
}

/* The number of queues is fixed per ops table, so one table per count. */
#define FS_OPS(nr_request_queues)                                     \
	{                                                             \
		.name = "virtio-fs",                                  \
		.device_id = VIRTIO_ID_FS,                            \
		.pci_class = PCI_CLASS_STORAGE_OTHER,                 \
		.features = 0,	/* no VIRTIO_FS_F_NOTIFICATION, no DAX */ \
		.nr_queues = 1 + (nr_request_queues),                 \
		.queue_max_size = FS_QUEUE_SIZE,                      \
		.config_size = sizeof(struct virtio_fs_config),       \
		.reset = fs_reset,                                    \
		.queue_notify = fs_queue_notify,                      \
		.destroy = fs_destroy,                                \
	}

static const struct virtio_device_ops fs_ops[] = { FS_OPS(1), FS_OPS(2), FS_OPS(3), FS_OPS(4) };
_Static_assert(ARRAY_SIZE(fs_ops) == VIRTIO_FS_MAX_REQUEST_QUEUES, "one ops table per queue count");
_Static_assert(VIRTIO_FS_MAX_REQUEST_QUEUES < 32, "starved is a 32-bit queue mask");

/* --- construction --- */

static int check_config(const struct virtio_fs_config_host *cfg, novm_error_t *err)
{
	if (!cfg->tag || !*cfg->tag || strlen(cfg->tag) > VIRTIO_FS_TAG_MAX)
		return novm_error(err, EINVAL, "virtio-fs: tag must be 1 to %d bytes",
				  VIRTIO_FS_TAG_MAX);
	if (cfg->nr_request_queues < 0 || cfg->nr_request_queues > VIRTIO_FS_MAX_REQUEST_QUEUES)
		return novm_error(err, EINVAL, "virtio-fs: %d request queues (at most %d)",
				  cfg->nr_request_queues, VIRTIO_FS_MAX_REQUEST_QUEUES);
	if (cfg->nr_workers < 0 || cfg->nr_workers > VIRTIO_FS_MAX_WORKERS)
		return novm_error(err, EINVAL, "virtio-fs: %d worker threads (at most %d)",
				  cfg->nr_workers, VIRTIO_FS_MAX_WORKERS);
	return 0;
}

static void write_config(struct virtio_fs *fs, const char *tag, int nr_request_queues)
{
	struct virtio_fs_config config = { .num_request_queues = htole32(nr_request_queues) };

	/* NUL padded, not NUL terminated. */
	memcpy(config.tag, tag, strlen(tag));
	memcpy(fs->vdev.config, &config, sizeof(config));
}

static int start_workers(struct virtio_fs *fs, int nr, novm_error_t *err)
{
	sigset_t all, old;

	/* Signals are for the main and vCPU threads only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < nr; i++) {
		int ret = pthread_create(&fs->workers[i], NULL, worker_main, fs);
		if (ret) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return novm_error(err, ret, "virtio-fs: start worker thread");
		}
		pthread_setname_np(fs->workers[i], "virtio-fs");
		fs->nr_workers = i + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int virtio_fs_init(struct vm *vm, const struct virtio_fs_config_host *cfg, struct virtio_fs **out,
		   novm_error_t *err)
{
	if (check_config(cfg, err) < 0)
		return -1;
	int nr_queues = cfg->nr_request_queues ? cfg->nr_request_queues : 1;
	int nr_workers = cfg->nr_workers ? cfg->nr_workers : FS_DEFAULT_WORKERS;

	struct virtio_fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return novm_error(err, ENOMEM, "virtio-fs: allocate");
	pthread_mutex_init(&fs->hiprio_lock, NULL);
	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->work_ready, NULL);
	pthread_cond_init(&fs->idle, NULL);
	fs->pending_tail = &fs->pending;
	for (int i = 0; i < nr_workers * FS_JOBS_PER_WORKER; i++) {
		struct fs_job *job = malloc(sizeof(*job));
		if (!job) {
			fs_destroy(&fs->vdev);
			return novm_error(err, ENOMEM, "virtio-fs: allocate requests");
		}
		job->next = fs->free_jobs;
		fs->free_jobs = job;
	}

	const struct fuse_server_config srv_cfg = {
		.root = cfg->root,
		.readonly = cfg->readonly,
		.only_name = cfg->only_name,
		.grafts = cfg->grafts,
		.budget = cfg->budget,
	};
	if (fuse_server_new(&srv_cfg, &fs->srv, err) < 0 ||
	    virtio_device_init(&fs->vdev, vm, &fs_ops[nr_queues - 1], err) < 0) {
		fs_destroy(&fs->vdev);	/* vdev not set up: only our own state */
		return -1;
	}
	write_config(fs, cfg->tag, nr_queues);
	if (start_workers(fs, nr_workers, err) < 0 || virtio_pci_add(vm, &fs->vdev, err) < 0) {
		virtio_device_exit(&fs->vdev);	/* frees fs */
		return novm_error_wrap(err, "virtio-fs `%s`", cfg->tag);
	}
	*out = fs;
	return 0;
}

void virtio_fs_seal(struct virtio_fs *fs)
{
	fuse_server_seal(fs->srv);
}

int virtio_fs_graft(struct virtio_fs *fs, const char *name, int fd, novm_error_t *err)
{
	return fuse_server_graft(fs->srv, name, fd, err);
}

unsigned virtio_fs_ungraft(struct virtio_fs *fs, const char *prefix)
{
	return fuse_server_ungraft(fs->srv, prefix);
}

void virtio_fs_exit(struct virtio_fs *fs)
{
	if (!fs)
		return;
	virtio_pci_remove(&fs->vdev);	/* frees fs */
}

/* The shares' descriptors, below RLIMIT_NOFILE (which vmm_run raised
 * already) by a reserve for the VMM's own: a guest holding every file it
 * can must still leave the control socket able to accept. */
static unsigned fd_budget_max(void)
{
	struct rlimit nofile;
	unsigned max = 1024;
	const char *env = getenv(VIRTIO_FS_MAX_FDS_ENV);

	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0)
		max = fuse_fd_budget_for_limit(nofile.rlim_cur == RLIM_INFINITY ? UINT_MAX
										 : nofile.rlim_cur);
	if (env && *env) {
		char *end;
		unsigned long want = strtoul(env, &end, 10);

		if (!*end && want > 0 && want < max)
			max = (unsigned)want;
	}
	return max;
}

int virtio_fs_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	int total = cfg->nr_shares + (cfg->pod_share ? 1 : 0);

	if (!total)
		return 0;
	vmm->shares = calloc(total, sizeof(*vmm->shares));
	vmm->seal_when_created = calloc(total, sizeof(bool));
	vmm->fd_budget = calloc(1, sizeof(*vmm->fd_budget));
	if (!vmm->shares || !vmm->seal_when_created || !vmm->fd_budget) {
		virtio_fs_detach(vmm);
		return novm_error(err, ENOMEM, "allocate shares");
	}
	vmm->fd_budget->max = fd_budget_max();
	atomic_init(&vmm->fd_budget->used, 0);
	for (int i = 0; i < total; i++) {
		bool pod = i == cfg->nr_shares;
		const struct vm_share *share = pod ? NULL : &cfg->shares[i];
		/* The pod share: an empty graft root of the server's own. */
		const struct virtio_fs_config_host fs_cfg = {
			.tag = pod ? PROTO_POD_TAG : share->tag,
			.root = pod ? NULL : share->path,
			.readonly = pod ? false : share->readonly,
			.only_name = pod ? NULL : share->only_name,
			.grafts = pod,
			.nr_request_queues = 1,
			.nr_workers = 4,
			.budget = vmm->fd_budget,
		};
		if (!pod && cfg->pod_share && share->tag && !strcmp(share->tag, PROTO_POD_TAG)) {
			virtio_fs_detach(vmm);
			return novm_error(err, EINVAL, "share `%s`: the tag %s is the pod share's",
					  share->path, PROTO_POD_TAG);
		}
		if (virtio_fs_init(&vmm->vm, &fs_cfg, &vmm->shares[i], err) < 0) {
			/* A failed step leaves nothing behind. */
			virtio_fs_detach(vmm);
			return novm_error_wrap(err, "share `%s`", pod ? PROTO_POD_TAG : share->path);
		}
		vmm->seal_when_created[i] = !pod && share->readonly_once_created;
		vmm->nr_shares = i + 1;
		if (pod)
			vmm->pod_share = vmm->shares[i];
	}
	return 0;
}

void virtio_fs_detach(struct vmm *vmm)
{
	for (int i = 0; i < vmm->nr_shares; i++)
		virtio_fs_exit(vmm->shares[i]);
	free(vmm->shares);
	free(vmm->seal_when_created);
	free(vmm->fd_budget);	/* after the servers that gave back into it */
	vmm->fd_budget = NULL;
	vmm->pod_share = NULL;
	vmm->shares = NULL;
	vmm->seal_when_created = NULL;
	vmm->nr_shares = 0;
}
