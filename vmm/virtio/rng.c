#include "virtio/rng.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>

#include "devices/pci.h"
#include "kvm.h"
#include "virtio/core.h"
#include "virtio/pci.h"
#include "vmm-internal.h"

#define RNG_QUEUE_SIZE 256
/* A driver may offer a huge buffer; filling it a bounded slice at a time
 * keeps the I/O loop responsive.  The spec lets us return fewer bytes. */
#define RNG_MAX_BYTES_PER_REQUEST 65536
#define PCI_CLASS_OTHERS 0xff0000

struct virtio_rng {
	struct virtio_device vdev;	/* first: the core hands us this pointer */
	/* Held while serving the queue, so a reset waits for it. */
	pthread_mutex_t lock;
	struct virtq_req req;
};

static struct virtio_rng *from_vdev(struct virtio_device *vdev)
{
	return (struct virtio_rng *)vdev;
}

/* Fills the writable buffers; returns the bytes written. */
static uint32_t fill(const struct virtq_req *req)
{
	uint64_t want = req->writable_len;
	uint32_t done = 0;

	if (want > RNG_MAX_BYTES_PER_REQUEST)
		want = RNG_MAX_BYTES_PER_REQUEST;
	for (unsigned i = req->nr_readable; i < req->nr_readable + req->nr_writable && done < want;
	     i++) {
		uint8_t *p = req->iov[i].iov_base;
		size_t len = req->iov[i].iov_len;
		if (len > want - done)
			len = want - done;
		size_t got = 0;
		while (got < len) {
			ssize_t n = getrandom(p + got, len - got, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return done + (uint32_t)got;
			}
			got += (size_t)n;
		}
		done += (uint32_t)len;
	}
	return done;
}

/* I/O loop thread. */
static void rng_queue_notify(struct virtio_device *vdev, uint16_t index)
{
	struct virtio_rng *rng = from_vdev(vdev);
	struct virtq *q = &vdev->queues[index];

	pthread_mutex_lock(&rng->lock);
	while (virtq_pop(q, &rng->req) > 0)
		virtq_push(q, &rng->req, fill(&rng->req));
	virtq_notify(q);
	pthread_mutex_unlock(&rng->lock);
}

/* vCPU thread, vdev->lock held: waits out a queue_notify in progress. */
static void rng_reset(struct virtio_device *vdev)
{
	struct virtio_rng *rng = from_vdev(vdev);

	pthread_mutex_lock(&rng->lock);
	pthread_mutex_unlock(&rng->lock);
}

static void rng_destroy(struct virtio_device *vdev)
{
	struct virtio_rng *rng = from_vdev(vdev);

	pthread_mutex_destroy(&rng->lock);
	free(rng);
}

static const struct virtio_device_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = PCI_CLASS_OTHERS,
	.features = 0,
	.nr_queues = 1,
	.queue_max_size = RNG_QUEUE_SIZE,
	.config_size = 0,
	.reset = rng_reset,
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

int virtio_rng_init(struct vm *vm, novm_error_t *err)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	if (!rng)
		return novm_error(err, ENOMEM, "virtio-rng: allocate");
	pthread_mutex_init(&rng->lock, NULL);
	if (virtio_device_init(&rng->vdev, vm, &rng_ops, err) < 0) {
		pthread_mutex_destroy(&rng->lock);
		free(rng);
		return -1;
	}
	if (virtio_pci_add(vm, &rng->vdev, err) < 0) {
		virtio_device_exit(&rng->vdev);	/* frees rng */
		return -1;
	}
	return 0;
}

void virtio_rng_exit(struct vm *vm)
{
	if (!vm->pci)
		return;
	struct pci_device *dev =
		pci_bus_find(vm->pci, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_RNG);
	if (!dev)
		return;
	pci_bus_remove_device(vm->pci, dev);
	dev->ops->destroy(dev);
}

int virtio_rng_attach(struct vmm *vmm, const struct vm_config *cfg, novm_error_t *err)
{
	(void)cfg;
	return virtio_rng_init(&vmm->vm, err);
}

void virtio_rng_detach(struct vmm *vmm)
{
	virtio_rng_exit(&vmm->vm);
}
