/* Getting Debian's generic kernel package with the host's apt, without
 * installing it: `apt-get download` and `dpkg-deb -x` into a scratch
 * directory, from which the store imports the bzImage and modules. */
#ifndef NOVM_KFETCH_H
#define NOVM_KFETCH_H

#include <stdbool.h>

#include "error.h"

/* The release of Debian's current generic kernel: the linux-image-<release>
 * package that linux-image-amd64 depends on (e.g. "6.1.0-56-amd64"). */
int kfetch_latest_release(char **release, novm_error_t *err);

/* A release that can name a Debian kernel package (linux-image-<release>). */
bool kfetch_valid_release(const char *release);

struct kfetch_result {
	char *scratch_dir;	/* remove with kfetch_result_release */
	char *bzimage;		/* <scratch>/root/boot/vmlinuz-<release> */
	char *modules_dir;	/* <scratch>/root/lib/modules/<release>, or NULL */
};

/* Downloads and unpacks linux-image-<release>.  The scratch directory is
 * under $TMPDIR (else /var/tmp: the unpacked package is large). */
int kfetch_download(const char *release, struct kfetch_result *out, novm_error_t *err);

/* Removes the scratch directory and frees the paths. */
void kfetch_result_release(struct kfetch_result *res);

#endif
