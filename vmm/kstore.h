/* The kernel store: guest kernels with their extracted vmlinux and the
 * modules the guest needs.  Layout (default root /var/lib/novm/kernels,
 * overridable with --store or $NOVM_KERNEL_STORE):
 *
 *   <root>/<name>/vmlinuz          the compressed bzImage, when imported from one
 *   <root>/<name>/vmlinux          the ELF kernel (extracted from vmlinuz, cached)
 *   <root>/<name>/release          the kernel release string (uname -r)
 *   <root>/<name>/modules/*.ko     virtio, virtio-pci, rng, fs, vsock, console, ...
 *   <root>/<name>/modules/order    their file names, one per line, dependencies first
 *   <root>/default                 a symlink to the default <name>
 */
#ifndef NOVM_KSTORE_H
#define NOVM_KSTORE_H

#include "error.h"

#define KSTORE_DEFAULT_ROOT "/var/lib/novm/kernels"

struct kernel_ref {
	char *name;		/* store entry name; NULL for a plain path */
	char *vmlinux;		/* ELF to load */
	char *bzimage;		/* setup header source; may be NULL */
	char *modules_dir;	/* may be NULL (no modules) */
	char *release;		/* may be NULL */
};

/* Store root from $NOVM_KERNEL_STORE or the default. */
const char *kstore_root(void);

/* Resolves `what`: NULL means the store's default kernel; a name of a store
 * entry; or a path to a bzImage or vmlinux file (a bzImage is extracted to a
 * cache next to the store).  Clear errors for a missing or corrupt kernel. */
int kstore_resolve(const char *root, const char *what, struct kernel_ref *out, novm_error_t *err);
void kernel_ref_release(struct kernel_ref *ref);

#endif
