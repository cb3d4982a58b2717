/* Loading the kernel modules shipped in the initramfs. */
#ifndef NOVM_AGENT_MODULES_H
#define NOVM_AGENT_MODULES_H

#define AGENT_MODULES_DIR "/lib/modules"

/* Loads the modules named in <dir>/order, in that order, with finit_module.
 * A module already loaded counts as loaded; any other failure is printed as
 * a warning and the next module tried, so one bad module costs only the
 * devices that need it.  A missing order file means no modules. */
void modules_load(const char *dir);

#endif
