#ifndef NOVM_COMMANDS_H
#define NOVM_COMMANDS_H

/* Each `novm <command>` gets argv starting at the command name and returns
 * the process exit status. */
int cmd_boot(int argc, char **argv);
int cmd_kernel(int argc, char **argv);

#endif
