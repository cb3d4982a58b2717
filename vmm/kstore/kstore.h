/* The kernel store: guest kernels with their extracted vmlinux and the
 * modules the guest needs.  This is its public header, with initramfs.h
 * (included here): the runtime includes it as "vmm/kstore/kstore.h".
 * Layout (default root /var/lib/novm/kernels, overridable with --store or
 * $NOVM_KERNEL_STORE):
 *
 *   <root>/<name>/vmlinuz          the compressed bzImage, when imported from one
 *   <root>/<name>/vmlinux          the ELF kernel (extracted from vmlinuz, cached)
 *   <root>/<name>/release          the kernel release string (uname -r)
 *   <root>/<name>/modules/<m>.ko   virtio, virtio-pci, rng, fs, vsock, console, ...
 *   <root>/<name>/modules/order    their file names, one per line, dependencies first
 *   <root>/default                 a symlink to the default <name>
 */
#ifndef NOVM_KSTORE_H
#define NOVM_KSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "initramfs.h"

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
/* Like kstore_resolve, but only an entry of the store: a name that is not
 * one (a file in the working directory, a path) is an error. */
int kstore_resolve_entry(const char *root, const char *name, struct kernel_ref *out,
			 novm_error_t *err);
void kernel_ref_release(struct kernel_ref *ref);

/* Entry names: letters, digits, '.', '_', '+', '-'; not starting with '.'
 * or '-'; at most 64 bytes; not "default". */
bool kstore_valid_name(const char *name);

/* The default entry's name in *name (heap), or NULL when there is none. */
int kstore_default(const char *root, char **name, novm_error_t *err);
/* Points <root>/default at an existing entry, replacing it atomically. */
int kstore_set_default(const char *root, const char *name, novm_error_t *err);

struct kstore_entry {
	char *name;
	char *release;		/* "unknown" when not recorded */
	bool is_default;
	uint64_t size;		/* bytes of all files in the entry */
};

/* All entries, sorted by name. */
int kstore_list(const char *root, struct kstore_entry **entries, size_t *count, novm_error_t *err);
void kstore_entries_free(struct kstore_entry *entries, size_t count);

/* The name of an entry whose release is `release` in *name (heap), or
 * NULL when there is none. */
int kstore_find_release(const char *root, const char *release, char **name, novm_error_t *err);

struct kstore_import {
	const char *bzimage;		/* exactly one of bzimage and vmlinux */
	const char *vmlinux;
	const char *modules_dir;	/* lib/modules/<release>, or NULL */
	const char *name;		/* NULL: the release */
	const char *release;		/* NULL: modules_dir's name, else the kernel's version string */
	bool make_default;		/* also made default when the store has none */
};

/* Adds an entry, built in a temporary directory and renamed into place so
 * a failed import leaves nothing behind.  Refuses an existing name.  The
 * entry's name goes to *name (heap) when name is not NULL. */
int kstore_import(const char *root, const struct kstore_import *imp, char **name, novm_error_t *err);

/* Removes an entry (and the default link when it pointed there). */
int kstore_remove(const char *root, const char *name, novm_error_t *err);

#endif
