/* Host ends of a session's stdio: a sink writes the process's output to a
 * host fd, a source reads its input from one.  Neither ever blocks the I/O
 * loop for long, and neither changes the flags of the fd it was given
 * (which the client shares: O_NONBLOCK on someone's terminal would break
 * their shell):
 *  - pipes, FIFOs and terminals are reopened through /proc/self/fd as a
 *    new, non-blocking open file;
 *  - sockets use MSG_DONTWAIT;
 *  - regular files and other unpollable fds never block for long anyway.
 *
 * Output the reader does not take at once is queued, up to RELAY_SINK_MAX
 * bytes.  Above that the loop waits for the reader up to RELAY_STALL_MS
 * and then drops what does not fit, until the queue is half empty again:
 * a reader that stopped reading can cost the loop one such wait, never
 * hang it (the agent protocol has no per-session flow control to push
 * back on the process instead). */
#ifndef NOVM_RELAY_H
#define NOVM_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "evset.h"

#define RELAY_SINK_MAX (4u << 20)
#define RELAY_STALL_MS 500
#define RELAY_CHUNK 32768

struct relay_sink;
struct relay_source;

/* Takes fd over when own is true (closed by relay_sink_free), else uses a
 * private reopened copy or the fd as it is.  Never fails for a valid fd:
 * unpollable or odd fds get plain writes. */
int relay_sink_new(struct evset *set, int fd, bool own, struct relay_sink **out,
		   novm_error_t *err);
/* Another user of the same sink (stdout and stderr on one fd). */
struct relay_sink *relay_sink_ref(struct relay_sink *sink);
/* Drops a reference; the last one closes (without flushing). */
void relay_sink_free(struct relay_sink *sink);

/* Writes or queues data.  Returns the bytes dropped (0 normally); a broken
 * reader (EPIPE, EIO...) makes the sink discard everything silently. */
size_t relay_sink_write(struct relay_sink *sink, const void *data, size_t len);
/* Bytes queued and not yet written. */
size_t relay_sink_backlog(const struct relay_sink *sink);
bool relay_sink_broken(const struct relay_sink *sink);
/* Called (I/O loop) whenever the backlog becomes empty or the sink broke. */
void relay_sink_on_drained(struct relay_sink *sink, void (*fn)(void *opaque), void *opaque);
/* Blocks until the backlog is written, giving up once the reader made no
 * progress for stall_ms.  For teardown. */
void relay_sink_flush(struct relay_sink *sink, int stall_ms);

/* True when both fds refer to the same open file (kcmp), e.g. a terminal
 * passed as stdout and stderr. */
bool relay_same_file(int a, int b);

/* The source calls fn with each chunk read, and with len 0 once at end of
 * input (or a read error).  fn returns 0 to go on, or -EAGAIN when the
 * chunk could not be taken: the source then keeps it and stops reading
 * until relay_source_resume(). */
typedef int (*relay_input_fn)(void *opaque, const uint8_t *data, size_t len);

int relay_source_new(struct evset *set, int fd, bool own, relay_input_fn fn, void *opaque,
		     struct relay_source **out, novm_error_t *err);
/* Retries the held chunk, then reads on. */
void relay_source_resume(struct relay_source *src);
bool relay_source_paused(const struct relay_source *src);
/* Stops reading and closes (owned and reopened fds). */
void relay_source_free(struct relay_source *src);

#endif
