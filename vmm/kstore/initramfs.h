/* The guest's initramfs: the static agent as /init plus the kernel modules
 * the VMM's devices need, in the newc cpio format the kernel unpacks.
 *
 * Layout written:
 *   dev/ proc/ sys/ lib/ lib/modules/      directories, 0755
 *   dev/console                            char device 5:1, 0600 (so the
 *                                          kernel can open init's stdio)
 *   init                                   the agent, 0755
 *   lib/modules/<name>                     each module named in the order file
 *   lib/modules/order                      their names, one a line, in order
 */
#ifndef NOVM_INITRAMFS_H
#define NOVM_INITRAMFS_H

#include "error.h"

/* Writes an initramfs to out_path, atomically (a temporary file renamed into
 * place).  agent_path must be a regular file, statically linked if it is an
 * ELF executable.  modules_dir is a directory holding `order` and the files
 * it names (a kernel store entry's modules/, see kstore.h), or NULL for
 * none; then lib/modules/order is empty. */
int initramfs_build(const char *agent_path, const char *modules_dir, const char *out_path,
		    novm_error_t *err);

/* Returns in *out_path (heap, caller frees) an up-to-date initramfs for a
 * kernel, building it only when needed.
 *
 * modules_dir is the kernel's modules directory exactly as kstore gives it
 * (struct kernel_ref.modules_dir, i.e. `<root>/<name>/modules`), or NULL
 * when the kernel has no modules.
 *
 * The cache file is named initramfs-<hash>.cpio, the hash covering the
 * agent (path, inode, size, mtime), modules_dir's path, the order file and
 * every module's inode, size and mtime, so any change to them (a rebuilt
 * agent, a re-imported kernel) makes a new one.  It is looked for, and
 * built if missing, in the first of these that works:
 *   1. the store entry, modules_dir's parent, when modules_dir's last
 *      component is `modules` (older initramfs-*.cpio there are removed);
 *   2. $NOVM_CACHE_DIR, else /var/cache/novm;
 *   3. $TMPDIR (else /tmp)/novm-<uid>, a directory private to the user.
 * A directory is skipped when it cannot be written (EACCES, EPERM, EROFS). */
int initramfs_default(const char *modules_dir, char **out_path, novm_error_t *err);

/* The agent binary to put in the initramfs: $NOVM_AGENT when set; else the
 * build tree's agent/novm-init when the running program itself lives in
 * that build tree (so tests and `./vmm/novm` use the fresh agent); else the
 * installed NOVM_LIBEXECDIR/novm-init.  Never NULL; may not exist. */
const char *initramfs_agent_path(void);

#endif
