#include "log.h"
#include "virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "cleanup.h"
#include "devices/pci.h"
#include "tuntap.h"
#include "virtio/core.h"
#include "virtio/pci.h"
#include "virtio/vhost-net.h"
#include "kvm.h"
#include "vmm-internal.h"

#define RX_QUEUE 0
#define TX_QUEUE 1
#define NET_QUEUE_SIZE 256
/* Chains or frames served per wake-up before the I/O loop's other sources
 * get a turn; the queue kicks itself to come back. */
#define NET_BUDGET 64
#define PCI_CLASS_NETWORK_ETHERNET 0x020000
/* num_buffers, the last field of virtio_net_hdr_v1. */
#define HDR_NUM_BUFFERS_OFFSET offsetof(struct virtio_net_hdr_v1, num_buffers)
/* One byte more than the largest frame: a read that fills it was cut. */
#define FRAME_BUF_SIZE (VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 1)

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VIRTIO_NET_HDR_LEN, "vnet header size");

#define BIT(f) (1ULL << (f))
#define NET_FEATURES                                                                         \
	(BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MRG_RXBUF) |   \
	 BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) | \
	 BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) |                        \
	 BIT(VIRTIO_NET_F_GUEST_TSO6))

struct virtio_net {
	struct virtio_device vdev;	/* first: the core hands us this pointer */
	int fd;
	int (*set_offload)(int fd, unsigned int tun_flags);
	char label[48];

	/* vhost-net: its features when the host has it (probed at init),
	 * and while a driver runs on it, the backend and which queues'
	 * call fds it holds.  Under vdev->lock. */
	bool vhost_available;
	uint64_t vhost_features;
	struct vhost_net vhost;
	bool call_held[VHOST_NET_NR_QUEUES];
	/* Set under both vdev->lock and net->lock: the I/O loop's paths
	 * check it under net->lock and leave the rings and tap to vhost. */
	_Atomic bool on_vhost;

	/* Held while a queue or the tap is served, and by activate and
	 * reset; guards everything below. */
	pthread_mutex_t lock;
	bool mrg_rxbuf;		/* negotiated by the running driver */
	unsigned int offloads;	/* TUN_F_* set on the fd */

	struct virtq_req tx_req;

	/* Receive: the frame read from the fd and not yet in guest buffers
	 * (header included; 0 for none), and the chains it is going into:
	 * the first holds the header, the others follow with merged buffers.
	 * Chains are held across wake-ups until the frame is complete. */
	uint8_t *frame;
	size_t frame_len, frame_done;
	bool have_first;
	size_t first_len;	/* bytes of the frame in the first chain */
	struct virtq_req rx_first, rx_next;
	struct virtq_used_token more[NET_QUEUE_SIZE];
	uint32_t more_len[NET_QUEUE_SIZE];
	unsigned nr_more;
	/* The fd is watched edge-triggered: this says it may still hold
	 * frames we left unread. */
	bool fd_readable;

	_Atomic uint64_t tx_frames, tx_errors, rx_frames, rx_dropped, rx_bad_buffers;
};

static struct virtio_net *from_vdev(struct virtio_device *vdev)
{
	return (struct virtio_net *)vdev;
}

static void count(_Atomic uint64_t *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* --- transmit --- */

/* Sends one chain's readable part (header and frame) as one write; a chain
 * the guest got wrong costs only itself. */
static void transmit(struct virtio_net *net, const struct virtq_req *req)
{
	/* A spare's frames go nowhere until it is connected, as on a link
	 * that is down. */
	if (net->fd < 0 || req->readable_len < VIRTIO_NET_HDR_LEN ||
	    req->readable_len > VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME) {
		count(&net->tx_errors);
		return;
	}
	/* Straight from guest memory: the lengths are our own copies, and the
	 * kernel copies the header once before it checks it. */
	ssize_t n;
	do
		n = writev(net->fd, req->iov, (int)req->nr_readable);
	while (n < 0 && errno == EINTR);
	/* A full tap queue drops the frame, as a busy link would. */
	count(n < 0 ? &net->tx_errors : &net->tx_frames);
}

static void serve_tx(struct virtio_net *net, struct virtq *q)
{
	int served = 0;

	while (served < NET_BUDGET && virtq_pop(q, &net->tx_req) > 0) {
		transmit(net, &net->tx_req);
		virtq_push(q, &net->tx_req, 0);
		served++;
	}
	virtq_notify(q);
	if (served == NET_BUDGET)
		virtio_queue_kick(&net->vdev, TX_QUEUE);
}

/* --- receive --- */

/* Pops a receive chain with at least `min_len` writable bytes; chains with
 * fewer go back empty.  False when the ring has none now. */
static bool pop_rx_chain(struct virtio_net *net, struct virtq *q, struct virtq_req *req,
			 uint64_t min_len)
{
	for (;;) {
		if (virtq_pop(q, req) <= 0)
			return false;
		if (req->writable_len >= min_len)
			return true;
		count(&net->rx_bad_buffers);
		virtq_push(q, req, 0);
	}
}

static void forget_frame(struct virtio_net *net)
{
	net->frame_len = net->frame_done = 0;
}

/* Merged buffers of a frame that can never fit go back empty: the driver
 * drops them as too short. */
static void drop_merged(struct virtio_net *net, struct virtq *q)
{
	virtq_push(q, &net->rx_first, 0);
	for (unsigned i = 0; i < net->nr_more; i++)
		virtq_push_token(q, net->more[i], 0);
	net->have_first = false;
	net->first_len = 0;
	net->nr_more = 0;
	forget_frame(net);
	count(&net->rx_dropped);
}

/* Puts the pending frame into guest buffers.  Returns false when it has to
 * wait for the guest to post more; true when the frame is gone (delivered
 * or dropped). */
static bool deliver(struct virtio_net *net, struct virtq *q)
{
	/* The header's chain may be held over from a dropped frame. */
	if (!net->have_first) {
		if (!pop_rx_chain(net, q, &net->rx_first, VIRTIO_NET_HDR_LEN))
			return false;
		net->have_first = true;
		net->first_len = 0;
	}

	if (!net->mrg_rxbuf) {
		/* One chain per frame; one too small keeps its chain for the
		 * next, smaller frame. */
		if (net->frame_len > net->rx_first.writable_len) {
			forget_frame(net);
			count(&net->rx_dropped);
			return true;
		}
		virtq_req_write(&net->rx_first, 0, net->frame, net->frame_len);
		virtq_push(q, &net->rx_first, (uint32_t)net->frame_len);
		net->have_first = false;
		forget_frame(net);
		count(&net->rx_frames);
		return true;
	}

	if (!net->first_len) {
		net->first_len = virtq_req_write(&net->rx_first, 0, net->frame, net->frame_len);
		net->frame_done = net->first_len;
	}
	while (net->frame_done < net->frame_len) {
		/* Every buffer of the ring held and still short: waiting would
		 * wait forever. */
		if (1 + net->nr_more >= virtq_size(q) || net->nr_more == NET_QUEUE_SIZE) {
			drop_merged(net, q);
			return true;
		}
		if (!pop_rx_chain(net, q, &net->rx_next, 1))
			return false;
		size_t n = virtq_req_write(&net->rx_next, 0, net->frame + net->frame_done,
					   net->frame_len - net->frame_done);
		net->more[net->nr_more] = virtq_req_token(&net->rx_next);
		net->more_len[net->nr_more++] = (uint32_t)n;
		net->frame_done += n;
	}
	uint16_t nr_buffers = htole16((uint16_t)(1 + net->nr_more));
	virtq_req_write(&net->rx_first, HDR_NUM_BUFFERS_OFFSET, &nr_buffers, sizeof(nr_buffers));
	virtq_push(q, &net->rx_first, (uint32_t)net->first_len);
	for (unsigned i = 0; i < net->nr_more; i++)
		virtq_push_token(q, net->more[i], net->more_len[i]);
	net->have_first = false;
	net->first_len = 0;
	net->nr_more = 0;
	forget_frame(net);
	count(&net->rx_frames);
	return true;
}

/* Reads the next frame into net->frame.  False when the fd has none. */
static bool read_frame(struct virtio_net *net)
{
	for (;;) {
		ssize_t n = read(net->fd, net->frame, FRAME_BUF_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EAGAIN: drained.  End of file or an error will not
			 * get better by reading again now; the next edge
			 * retries. */
			net->fd_readable = false;
			return false;
		}
		if (n < VIRTIO_NET_HDR_LEN || n == FRAME_BUF_SIZE) {
			count(&net->rx_dropped);	/* no header, or cut */
			continue;
		}
		/* The tap leaves num_buffers alone; without merged buffers it
		 * must read 1. */
		uint16_t one = htole16(1);
		memcpy(net->frame + HDR_NUM_BUFFERS_OFFSET, &one, sizeof(one));
		net->frame_len = (size_t)n;
		net->frame_done = 0;
		return true;
	}
}

static bool running(struct virtio_net *net)
{
	uint8_t status = atomic_load(&net->vdev.status);
	return (status & VIRTIO_CONFIG_S_DRIVER_OK) && !(status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* net->lock held.  Frames are read only as fast as the guest takes them. */
static void serve_rx(struct virtio_net *net, struct virtq *q)
{
	int served = 0;

	while (served < NET_BUDGET && running(net) && virtq_is_ready(q)) {
		if (!net->frame_len && (!net->fd_readable || !read_frame(net)))
			break;
		if (!deliver(net, q))
			break;	/* the guest kicks when it posts buffers */
		served++;
	}
	virtq_notify(q);
	if (served == NET_BUDGET)
		virtio_queue_kick(&net->vdev, RX_QUEUE);
}

/* I/O loop thread: the fd got frames. */
static void fd_ready(void *opaque)
{
	struct virtio_net *net = opaque;

	pthread_mutex_lock(&net->lock);
	net->fd_readable = true;
	if (!atomic_load(&net->on_vhost))
		serve_rx(net, &net->vdev.queues[RX_QUEUE]);
	pthread_mutex_unlock(&net->lock);
}

/* --- device ops --- */

/* I/O loop thread. */
static void net_queue_notify(struct virtio_device *vdev, uint16_t index)
{
	struct virtio_net *net = from_vdev(vdev);
	struct virtq *q = &vdev->queues[index];

	pthread_mutex_lock(&net->lock);
	if (atomic_load(&net->on_vhost))
		;	/* a kick that raced the hand-over: vhost saw it too */
	else if (index == RX_QUEUE)
		serve_rx(net, q);
	else
		serve_tx(net, q);
	pthread_mutex_unlock(&net->lock);
}

/* What the fd may hand the guest: only what the driver said it takes (TSO
 * needs checksum offload, as the spec and the tap both require). */
static unsigned int offloads_for(uint64_t features)
{
	unsigned int flags = 0;

	if (!(features & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	flags |= TUN_F_CSUM;
	if (features & BIT(VIRTIO_NET_F_GUEST_TSO4))
		flags |= TUN_F_TSO4;
	if (features & BIT(VIRTIO_NET_F_GUEST_TSO6))
		flags |= TUN_F_TSO6;
	return flags;
}

/* --- the vhost-net backend (vdev->lock held throughout) --- */

static void set_on_vhost(struct virtio_net *net, bool on)
{
	/* Taking net->lock also waits out a serve in flight. */
	pthread_mutex_lock(&net->lock);
	atomic_store(&net->on_vhost, on);
	pthread_mutex_unlock(&net->lock);
}

static void put_calls(struct virtio_net *net)
{
	for (uint16_t i = 0; i < VHOST_NET_NR_QUEUES; i++)
		if (net->call_held[i]) {
			virtio_queue_call_put(&net->vdev, i);
			net->call_held[i] = false;
		}
}

/* Our own loop watches the tap and the kicks again (also after a failed
 * start).  At VM exit the loop is gone and this fails harmlessly. */
static void back_to_userspace(struct virtio_net *net)
{
	struct virtio_device *vdev = &net->vdev;

	set_on_vhost(net, false);
	put_calls(net);
	for (uint16_t i = 0; i < VHOST_NET_NR_QUEUES; i++)
		virtio_queue_kick_watch(vdev, i, true);
	pthread_mutex_lock(&net->lock);
	net->fd_readable = true;
	pthread_mutex_unlock(&net->lock);
	/* Edge-triggered: adding a readable fd reports it at once. */
	ioloop_add_edge(&vdev->vm->loop, net->fd, fd_ready, net);
}

static int start_vhost(struct virtio_net *net, novm_error_t *err)
{
	struct virtio_device *vdev = &net->vdev;
	struct vhost_net_ring rings[VHOST_NET_NR_QUEUES];
	uint64_t features;
	const char *why;

	if (vhost_net_features(net->vhost_features, vdev->guest_features, &features, &why) < 0)
		return novm_error(err, EOPNOTSUPP, "%s", why);
	for (uint16_t i = 0; i < VHOST_NET_NR_QUEUES; i++)
		if (!virtio_queue_enabled_locked(vdev, i))
			return novm_error(err, EINVAL, "queue %u is not enabled", i);
	for (uint16_t i = 0; i < VHOST_NET_NR_QUEUES; i++) {
		rings[i].layout = *virtio_queue_layout_locked(vdev, i);
		rings[i].kick_fd = virtio_queue_kick_fd(vdev, i);
		int fd = virtio_queue_call_get(vdev, i);
		if (fd < 0 && fd != -ENOENT) {
			put_calls(net);
			return novm_error(err, -fd, "queue %u: its interrupt's eventfd", i);
		}
		net->call_held[i] = true;
		rings[i].call_fd = fd < 0 ? -1 : fd;	/* no vector: vhost raises nothing */
	}

	/* From here the rings and the tap are vhost's alone. */
	set_on_vhost(net, true);
	ioloop_remove(&vdev->vm->loop, net->fd);
	for (uint16_t i = 0; i < VHOST_NET_NR_QUEUES; i++)
		virtio_queue_kick_watch(vdev, i, false);
	if (vhost_net_start(&net->vhost, &vdev->vm->mem, vdev->ops->queue_max_size, features,
			    net->fd, rings, err) < 0) {
		back_to_userspace(net);
		return -1;
	}
	/* The kicks the driver gave before DRIVER_OK are repeated by the
	 * core once activation returns: vhost sees them. */
	return 0;
}

static void stop_vhost(struct virtio_net *net)
{
	if (!atomic_load(&net->on_vhost))
		return;
	vhost_net_stop(&net->vhost);
	back_to_userspace(net);
}

static void net_queue_call_changed(struct virtio_device *vdev, uint16_t index, int fd)
{
	struct virtio_net *net = from_vdev(vdev);

	if (!atomic_load(&net->on_vhost))
		return;
	int ret = vhost_net_set_call(&net->vhost, index, fd);
	if (ret < 0)
		virtio_device_needs_reset(vdev, "vhost-net: cannot follow the queue's new vector");
}

/* The tap's offloads for what the running driver accepted, and vhost-net
 * when the host has it.  vdev->lock held, net->fd connected. */
static int start_backend(struct virtio_net *net)
{
	unsigned int flags = offloads_for(net->vdev.guest_features);
	int ret = net->set_offload(net->fd, flags);

	if (ret < 0) {
		log_msg(LOG_LEVEL_WARNING, "%s: set the tap's offloads: %s", net->label,
			strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&net->lock);
	net->offloads = flags;
	pthread_mutex_unlock(&net->lock);

	if (net->vhost_available) {
		cleanup_error novm_error_t err = NULL;
		if (start_vhost(net, &err) == 0)
			log_msg(LOG_LEVEL_INFO, "%s: the driver runs on vhost-net", net->label);
		else	/* the guest keeps a working NIC: ours serves it */
			log_msg(LOG_LEVEL_WARNING, "%s: vhost-net did not start, serving it in "
						   "userspace: %s", net->label, err->msg);
	}
	return 0;
}

/* vCPU thread, vdev->lock held. */
static int net_activate(struct virtio_device *vdev)
{
	struct virtio_net *net = from_vdev(vdev);

	pthread_mutex_lock(&net->lock);
	net->mrg_rxbuf = vdev->guest_features & BIT(VIRTIO_NET_F_MRG_RXBUF);
	pthread_mutex_unlock(&net->lock);
	/* A spare has no backend yet: virtio_net_connect starts it. */
	if (net->fd < 0)
		return 0;
	return start_backend(net) < 0 ? -1 : 0;
}

/* vCPU thread, vdev->lock held, queues stopped.  Chains held for a frame
 * belong to no ring any more; the frame goes with them. */
static void net_reset(struct virtio_device *vdev)
{
	struct virtio_net *net = from_vdev(vdev);

	/* vhost first: once it is stopped nothing else touches the rings. */
	stop_vhost(net);
	pthread_mutex_lock(&net->lock);
	net->have_first = false;
	net->first_len = 0;
	net->nr_more = 0;
	forget_frame(net);
	net->mrg_rxbuf = false;
	/* The next driver may take fewer offloads; frames are read again
	 * once it is up. */
	if (net->offloads && net->set_offload(net->fd, 0) == 0)
		net->offloads = 0;
	net->fd_readable = true;
	pthread_mutex_unlock(&net->lock);
}

void virtio_net_stats(struct virtio_net *net, struct virtio_net_stats *out)
{
	*out = (struct virtio_net_stats){
		.tx_frames = atomic_load(&net->tx_frames),
		.tx_errors = atomic_load(&net->tx_errors),
		.rx_frames = atomic_load(&net->rx_frames),
		.rx_dropped = atomic_load(&net->rx_dropped),
		.rx_bad_buffers = atomic_load(&net->rx_bad_buffers),
		.on_vhost = atomic_load(&net->on_vhost),
	};
}

/* Any thread: not net->lock, which a stalled serve may hold. */
static void net_describe(struct virtio_device *vdev, FILE *out)
{
	struct virtio_net_stats s;

	virtio_net_stats(from_vdev(vdev), &s);
	/* vhost's own counters are in the kernel: ours then stand still. */
	fprintf(out, ",\"backend\":\"%s\"", s.on_vhost ? "vhost-net" : "userspace");
	fprintf(out,
		",\"tx_frames\":%llu,\"tx_errors\":%llu,\"rx_frames\":%llu,\"rx_dropped\":%llu,"
		"\"rx_bad_buffers\":%llu",
		(unsigned long long)s.tx_frames, (unsigned long long)s.tx_errors,
		(unsigned long long)s.rx_frames, (unsigned long long)s.rx_dropped,
		(unsigned long long)s.rx_bad_buffers);
}

static void net_destroy(struct virtio_device *vdev)
{
	struct virtio_net *net = from_vdev(vdev);

	if (net->fd >= 0)
		close(net->fd);	/* also drops it from the I/O loop */
	free(net->frame);
	pthread_mutex_destroy(&net->lock);
	free(net);
}

static const struct virtio_device_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = PCI_CLASS_NETWORK_ETHERNET,
	.features = NET_FEATURES,
	.nr_queues = 2,
	.queue_max_size = NET_QUEUE_SIZE,
	/* mac and status; max_virtqueue_pairs and on need MQ and others. */
	.config_size = offsetof(struct virtio_net_config, max_virtqueue_pairs),
	.activate = net_activate,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
	.queue_call_changed = net_queue_call_changed,
	.describe = net_describe,
	.destroy = net_destroy,
};

static int tap_set_offload(int fd, unsigned int tun_flags)
{
	return ioctl(fd, TUNSETOFFLOAD, tun_flags) < 0 ? -errno : 0;
}

/* Decides whether drivers will be offered vhost-net, and says so: a test
 * (or an operator) can tell the backend from the log. */
static int probe_vhost(struct virtio_net *net, enum virtio_net_backend backend,
		       novm_error_t *err)
{
	if (backend == VIRTIO_NET_USERSPACE) {
		log_msg(LOG_LEVEL_INFO, "%s: userspace backend (asked for)", net->label);
		return 0;
	}
	int ret = vhost_net_probe(&net->vhost_features);
	if (ret < 0) {
		if (backend == VIRTIO_NET_VHOST)
			return novm_error(err, -ret, "%s: vhost-net asked for: %s", net->label,
					  VHOST_NET_DEVICE);
		log_msg(LOG_LEVEL_INFO, "%s: userspace backend (%s: %s)", net->label,
			VHOST_NET_DEVICE, strerror(-ret));
		return 0;
	}
	net->vhost_available = true;
	log_msg(LOG_LEVEL_INFO, "%s: vhost-net backend (features %#llx)", net->label,
		(unsigned long long)net->vhost_features);
	return 0;
}

int virtio_net_init(struct vm *vm, const struct virtio_net_config_host *cfg,
		    struct virtio_net **out, novm_error_t *err)
{
	struct virtio_net *net = calloc(1, sizeof(*net));
	if (!net) {
		close(cfg->fd);
		return novm_error(err, ENOMEM, "virtio-net: allocate");
	}
	net->fd = cfg->fd;
	net->vhost.fd = -1;
	snprintf(net->label, sizeof(net->label), "%s", cfg->label ? cfg->label : "virtio-net");
	net->set_offload = cfg->set_offload ? cfg->set_offload : tap_set_offload;
	net->fd_readable = true;
	pthread_mutex_init(&net->lock, NULL);
	net->frame = malloc(FRAME_BUF_SIZE);
	if (!net->frame) {
		net_destroy(&net->vdev);
		return novm_error(err, ENOMEM, "virtio-net: allocate");
	}
	if (probe_vhost(net, cfg->backend, err) < 0 ||
	    virtio_device_init(&net->vdev, vm, &net_ops, err) < 0) {
		net_destroy(&net->vdev);	/* vdev not set up: only our own state */
		return -1;
	}
	struct virtio_net_config config = {
		.status = htole16(net->fd >= 0 ? VIRTIO_NET_S_LINK_UP : 0),
	};
	memcpy(config.mac, cfg->mac, sizeof(config.mac));
	memcpy(net->vdev.config, &config, net_ops.config_size);

	int ret = net->fd >= 0 ? ioloop_add_edge(&vm->loop, net->fd, fd_ready, net) : 0;
	if (ret < 0) {
		virtio_device_exit(&net->vdev);	/* frees net */
		return novm_error(err, -ret, "virtio-net: watch the tap");
	}
	if (virtio_pci_add(vm, &net->vdev, err) < 0) {
		virtio_device_exit(&net->vdev);
		return -1;
	}
	*out = net;
	return 0;
}

static void set_link_status_locked(struct virtio_net *net, uint16_t status)
{
	uint16_t le = htole16(status);

	memcpy(net->vdev.config + offsetof(struct virtio_net_config, status), &le, sizeof(le));
	virtio_config_changed_locked(&net->vdev);
}

/* Undoes the first steps of a connect that failed. */
static void disconnect_locked(struct virtio_net *net, bool watched)
{
	if (watched)
		ioloop_remove(&net->vdev.vm->loop, net->fd);
	pthread_mutex_lock(&net->lock);
	close(net->fd);
	net->fd = -1;
	net->fd_readable = false;
	pthread_mutex_unlock(&net->lock);
}

int virtio_net_connect(struct virtio_net *net, int fd, novm_error_t *err)
{
	struct virtio_device *vdev = &net->vdev;
	int ret;

	pthread_mutex_lock(&vdev->lock);
	if (net->fd >= 0) {
		pthread_mutex_unlock(&vdev->lock);
		close(fd);
		return novm_error(err, EBUSY, "%s has its backend already", net->label);
	}
	pthread_mutex_lock(&net->lock);
	net->fd = fd;
	net->fd_readable = true;
	pthread_mutex_unlock(&net->lock);
	ret = ioloop_add_edge(&vdev->vm->loop, fd, fd_ready, net);
	if (ret < 0) {
		disconnect_locked(net, false);
		pthread_mutex_unlock(&vdev->lock);
		return novm_error(err, -ret, "%s: watch the tap", net->label);
	}
	/* A driver that is up already gets what activation would have given
	 * it; one that comes later gets it at activation. */
	if (vdev->activated && (ret = start_backend(net)) < 0) {
		disconnect_locked(net, true);
		pthread_mutex_unlock(&vdev->lock);
		return novm_error(err, -ret, "%s: set the tap's offloads", net->label);
	}
	set_link_status_locked(net, VIRTIO_NET_S_LINK_UP);
	pthread_mutex_unlock(&vdev->lock);
	log_msg(LOG_LEVEL_INFO, "%s: connected, link up", net->label);
	return 0;
}

bool virtio_net_connected(struct virtio_net *net)
{
	pthread_mutex_lock(&net->vdev.lock);
	bool connected = net->fd >= 0;
	pthread_mutex_unlock(&net->vdev.lock);
	return connected;
}

void virtio_net_exit(struct virtio_net *net)
{
	if (!net)
		return;
	virtio_pci_remove(&net->vdev);	/* frees net */
}
