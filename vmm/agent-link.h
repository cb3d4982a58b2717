/* The host end of the agent channel (agent/proto.h over a virtio-console
 * port): sends the container configuration when the agent is ready, relays
 * the process's stdio to host fds, forwards signals, and ends the VM with the
 * process's exit status. */
#ifndef NOVM_AGENT_LINK_H
#define NOVM_AGENT_LINK_H

#include <stddef.h>

#include "error.h"

struct vm;
struct agent_link;

struct agent_link_config {
	int stdin_fd;		/* -1: the process gets EOF at once */
	int stdout_fd, stderr_fd;
	const char *config;	/* PROTO_CONFIG payload (JSON), sent on PROTO_READY */
	size_t config_len;
};

int agent_link_init(struct vm *vm, const struct agent_link_config *cfg, struct agent_link **out,
		    novm_error_t *err);
void agent_link_exit(struct agent_link *link);

/* Delivers a signal to the container's process. */
int agent_link_signal(struct agent_link *link, int signo);

/* After the VM stopped: the process's status (exit code or 128+signal) and
 * signal, or -1 when it never reported one; and the agent's error message
 * when it could not start the process (NULL otherwise). */
int agent_link_status(const struct agent_link *link, int *signo);
const char *agent_link_error(const struct agent_link *link);

#endif
