#include "tuntap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "cleanup.h"
#include "virtio/net.h"

/* TUNSETIFF on a fresh /dev/net/tun fd, then our vnet header size and no
 * offloads until a driver accepts them. */
static int tap_attach(const char *name, int *fd_out, novm_error_t *err)
{
	struct ifreq ifr = { 0 };
	unsigned int features = 0;
	int hdr_len = VIRTIO_NET_HDR_LEN;

	cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return novm_error(err, errno, "tap `%s`: open /dev/net/tun", name);
	if (ioctl(fd, TUNGETFEATURES, &features) < 0 || !(features & IFF_VNET_HDR))
		return novm_error(err, EOPNOTSUPP, "tap `%s`: the kernel's tun has no vnet headers",
				  name);
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		if (e == EINVAL)
			return novm_error(err, e,
					  "tap `%s`: not a single-queue tap interface (a tun, a "
					  "multiqueue tap or another kind of interface)",
					  name);
		if (e == EBUSY)
			return novm_error(err, e, "tap `%s`: in use by another process", name);
		if (e == EPERM)
			return novm_error(err, e, "tap `%s`: not allowed to attach (the tap's "
						  "owner or group, or CAP_NET_ADMIN)", name);
		return novm_error(err, e, "tap `%s`: attach", name);
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return novm_error(err, errno, "tap `%s`: set the vnet header size", name);
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		return novm_error(err, errno, "tap `%s`: clear the offloads", name);
	*fd_out = steal_fd(&fd);
	return 0;
}

static int check_name(const char *name, novm_error_t *err)
{
	if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '/'))
		return novm_error(err, EINVAL, "tap `%s`: not a valid interface name", name);
	return 0;
}

int tap_open(const char *name, int *fd_out, novm_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	/* TUNSETIFF would create a missing tap, one nobody configured and
	 * that vanishes with us. */
	if (!if_nametoindex(name))
		return novm_error(err, ENODEV, "tap `%s`: no such network interface", name);
	return tap_attach(name, fd_out, err);
}

int tap_create(const char *name, int *fd_out, novm_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	if (if_nametoindex(name))
		return novm_error(err, EEXIST, "tap `%s`: an interface of that name exists", name);
	return tap_attach(name, fd_out, err);
}

int tap_check_fd(int fd, novm_error_t *err)
{
	struct ifreq ifr = { 0 };
	int hdr_len = 0;

	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return novm_error(err, errno == EBADFD ? EINVAL : errno,
				  "fd %d is not an attached tun/tap device", fd);
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP || !(ifr.ifr_flags & IFF_NO_PI) ||
	    !(ifr.ifr_flags & IFF_VNET_HDR))
		return novm_error(err, EINVAL,
				  "tap `%.*s`: not a tap with vnet headers and no packet info "
				  "(flags %#x)", IFNAMSIZ, ifr.ifr_name, (unsigned)ifr.ifr_flags);
	/* The I/O loop reads a tap until EAGAIN. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK))
		return novm_error(err, EINVAL, "tap `%.*s`: not non-blocking", IFNAMSIZ, ifr.ifr_name);
	if (ioctl(fd, TUNGETVNETHDRSZ, &hdr_len) < 0 || hdr_len != VIRTIO_NET_HDR_LEN)
		return novm_error(err, EINVAL, "tap `%.*s`: vnet headers of %d bytes, not %d",
				  IFNAMSIZ, ifr.ifr_name, hdr_len, VIRTIO_NET_HDR_LEN);
	return 0;
}
