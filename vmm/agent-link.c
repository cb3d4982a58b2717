#include "agent-link.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/proto.h"
#include "virtio/console.h"
#include "vm.h"

#define STDIN_CHUNK 32768

struct agent_link {
	struct vm *vm;
	struct virtio_console *console;
	struct agent_link_config cfg;
	pthread_mutex_t send_lock;	/* one frame at a time into the console */

	/* Frame reassembly; only the I/O loop thread touches it. */
	uint8_t *frame;
	size_t frame_len;

	bool stdin_open;
	int status, signo;	/* -1 until PROTO_EXIT */
	char *error;
};

static int send_frame(struct agent_link *link, uint16_t type, uint32_t session, const void *payload,
		      size_t len)
{
	struct proto_header hdr = { .len = len, .type = type, .session = session };
	int ret;

	if (len > PROTO_MAX_PAYLOAD)
		return -EMSGSIZE;
	pthread_mutex_lock(&link->send_lock);
	ret = virtio_console_send(link->console, &hdr, sizeof(hdr));
	if (ret >= 0 && len)
		ret = virtio_console_send(link->console, payload, len);
	pthread_mutex_unlock(&link->send_lock);
	return ret < 0 ? ret : 0;
}

static void write_all(int fd, const uint8_t *data, size_t len)
{
	while (len && fd >= 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;	/* the reader is gone; keep the container running */
		}
		data += n;
		len -= n;
	}
}

static void handle_frame(struct agent_link *link, const struct proto_header *hdr, const uint8_t *payload)
{
	switch (hdr->type) {
	case PROTO_READY:
		if (send_frame(link, PROTO_CONFIG, 0, link->cfg.config, link->cfg.config_len) < 0)
			vm_request_exit(link->vm, VM_EXIT_ERROR, "cannot send the container configuration");
		break;
	case PROTO_STDOUT:
		write_all(link->cfg.stdout_fd, payload, hdr->len);
		break;
	case PROTO_STDERR:
		write_all(link->cfg.stderr_fd, payload, hdr->len);
		break;
	case PROTO_ERROR:
		if (!link->error)
			link->error = strndup((const char *)payload, hdr->len);
		break;
	case PROTO_EXIT:
		if (hdr->session == 0 && hdr->len >= sizeof(struct proto_exit)) {
			struct proto_exit ex;
			memcpy(&ex, payload, sizeof(ex));
			link->status = ex.status;
			link->signo = ex.signal;
			vm_request_exit(link->vm, VM_EXIT_CONTAINER, "container process exited with status %d",
					ex.status);
		}
		break;
	default:
		/* Logs and replies for sessions nobody asked about are dropped. */
		break;
	}
}

/* Guest bytes arrive in arbitrary pieces; frames are cut out of them here. */
static void on_receive(void *opaque, const uint8_t *data, size_t len)
{
	struct agent_link *link = opaque;
	struct proto_header hdr;

	while (len) {
		size_t need = sizeof(hdr);
		if (link->frame_len >= sizeof(hdr)) {
			memcpy(&hdr, link->frame, sizeof(hdr));
			need += hdr.len;
		}
		size_t take = need - link->frame_len < len ? need - link->frame_len : len;
		memcpy(link->frame + link->frame_len, data, take);
		link->frame_len += take;
		data += take;
		len -= take;
		if (link->frame_len < sizeof(hdr))
			continue;
		memcpy(&hdr, link->frame, sizeof(hdr));
		if (hdr.len > PROTO_MAX_PAYLOAD) {
			vm_request_exit(link->vm, VM_EXIT_ERROR, "agent sent a %u-byte frame (limit %u)",
					hdr.len, PROTO_MAX_PAYLOAD);
			link->frame_len = 0;
			return;
		}
		if (link->frame_len == sizeof(hdr) + hdr.len) {
			handle_frame(link, &hdr, link->frame + sizeof(hdr));
			link->frame_len = 0;
		}
	}
}

static void on_stdin(void *opaque)
{
	struct agent_link *link = opaque;
	uint8_t buf[STDIN_CHUNK];
	ssize_t n = read(link->cfg.stdin_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF (or a broken stdin): tell the process, stop watching. */
		ioloop_remove(&link->vm->loop, link->cfg.stdin_fd);
		link->stdin_open = false;
		send_frame(link, PROTO_STDIN, 0, NULL, 0);
		return;
	}
	send_frame(link, PROTO_STDIN, 0, buf, n);
}

static const struct virtio_console_ops link_console_ops = {
	.receive = on_receive,
};

int agent_link_init(struct vm *vm, const struct agent_link_config *cfg, struct agent_link **out,
		    novm_error_t *err)
{
	struct agent_link *link = calloc(1, sizeof(*link));

	if (!link || !(link->frame = malloc(sizeof(struct proto_header) + PROTO_MAX_PAYLOAD))) {
		free(link);
		return novm_error(err, ENOMEM, "agent link");
	}
	link->vm = vm;
	link->cfg = *cfg;
	link->status = link->signo = -1;
	pthread_mutex_init(&link->send_lock, NULL);
	if (virtio_console_init(vm, &link_console_ops, link, &link->console, err) < 0) {
		free(link->frame);
		free(link);
		return novm_error_wrap(err, "agent channel");
	}
	if (cfg->stdin_fd >= 0 && ioloop_add(&vm->loop, cfg->stdin_fd, on_stdin, link) == 0)
		link->stdin_open = true;
	*out = link;
	return 0;
}

void agent_link_exit(struct agent_link *link)
{
	if (!link)
		return;
	virtio_console_exit(link->console);
	pthread_mutex_destroy(&link->send_lock);
	free(link->frame);
	free(link->error);
	free(link);
}

int agent_link_signal(struct agent_link *link, int signo)
{
	uint32_t sig = signo;
	return send_frame(link, PROTO_SIGNAL, 0, &sig, sizeof(sig));
}

int agent_link_status(const struct agent_link *link, int *signo)
{
	if (signo)
		*signo = link->signo;
	return link->status;
}

const char *agent_link_error(const struct agent_link *link)
{
	return link->error;
}
