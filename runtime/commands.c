#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"

#define ID_TEXT                                                                                  \
	"Where \"<container-id>\" is your name for the instance of the container.\n\n"

const struct command commands[] = {
	{ "checkpoint", cmd_checkpoint, "checkpoint a running container (not supported)",
	  "[command options] <container-id>",
	  "DESCRIPTION:\n"
	  "   novm does not save a VM's memory: checkpoint fails.\n" },
	{ "create", cmd_create, "create a container", "[command options] <container-id>",
	  ID_TEXT
	  "DESCRIPTION:\n"
	  "   The create command boots the container's VM from the bundle (a directory with\n"
	  "a config.json and a root filesystem) and prepares its process, which waits for\n"
	  "\"start\".\n\n"
	  "OPTIONS:\n"
	  "   --bundle value, -b value  path to the root of the bundle directory, defaults to the current directory\n"
	  "   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal\n"
	  "   --pid-file value          specify the file to write the process id to\n"
	  "   --pidfd-socket value      path to an AF_UNIX socket which will receive a file descriptor referencing the container's process (its VMM)\n"
	  "   --no-pivot                accepted for compatibility (the root filesystem is the VM's own)\n"
	  "   --no-new-keyring          accepted for compatibility (the VM has its own keyrings)\n"
	  "   --preserve-fds value      only 0: host fds cannot enter a VM (default: 0)\n" },
	{ "delete", cmd_delete, "delete any resources held by the container often used with detached container",
	  "[command options] <container-id>",
	  ID_TEXT
	  "OPTIONS:\n"
	  "   --force, -f  Forcibly deletes the container if it is still running (kills its VM)\n" },
	{ "events", cmd_events,
	  "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	  "[command options] <container-id>",
	  ID_TEXT
	  "DESCRIPTION:\n"
	  "   The events command displays the container's resource usage (as seen inside its VM).\n"
	  "By default the information is displayed once every 5 seconds.\n\n"
	  "OPTIONS:\n"
	  "   --interval value  set the stats collection interval (default: 5s)\n"
	  "   --stats           display the container's stats then exit\n" },
	{ "exec", cmd_exec, "execute new process inside the container",
	  "[command options] <container-id> <command> [command options]  || -p process.json <container-id>",
	  "Where \"<container-id>\" is the name for the instance of the container and\n"
	  "\"<command>\" is the command to be executed in the container.\n"
	  "\"<command>\" can't be empty unless a \"-p\" flag provided.\n\n"
	  "OPTIONS:\n"
	  "   --console-socket value             path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal\n"
	  "   --cwd value                        current working directory in the container\n"
	  "   --env value, -e value              set environment variables\n"
	  "   --tty, -t                          allocate a pseudo-TTY\n"
	  "   --user value, -u value             UID (format: <uid>[:<gid>])\n"
	  "   --additional-gids value, -g value  additional gids\n"
	  "   --process value, -p value          path to the process.json\n"
	  "   --detach, -d                       detach from the container's process\n"
	  "   --pid-file value                   specify the file to write the process id to\n"
	  "   --process-label value              not honoured in a VM: a warning\n"
	  "   --apparmor value                   not honoured in a VM: a warning\n"
	  "   --no-new-privs                     set the no new privileges value for the process\n"
	  "   --cap value, -c value              add a capability to the bounding set for the process\n"
	  "   --preserve-fds value               only 0: host fds cannot enter a VM (default: 0)\n"
	  "   --cgroup value                     only the container's own cgroup (\"/\"): sub-cgroups are refused\n"
	  "   --ignore-paused                    allow exec in a paused container\n"
	  "   --pidfd-socket value               path to an AF_UNIX socket which will receive a file descriptor referencing the exec process (its host proxy)\n" },
	{ "features", cmd_features, "show the enabled features", "",
	  "DESCRIPTION:\n"
	  "   Show the enabled features.\n"
	  "   The result is parsable as a JSON (the runtime-spec's features document).\n" },
	{ "kill", cmd_kill,
	  "kill sends the specified signal (default: SIGTERM) to the container's init process",
	  "[command options] <container-id> [signal]",
	  "Where \"<container-id>\" is the name for the instance of the container and\n"
	  "\"[signal]\" is the signal to be sent to the init process.\n\n"
	  "EXAMPLE:\n"
	  "       # novm-runc kill ubuntu01 KILL\n\n"
	  "OPTIONS:\n"
	  "   --all, -a  send the specified signal to all processes inside the container\n" },
	{ "list", cmd_list, "lists containers started by novm-runc with the given root",
	  "[command options]",
	  "Where the given root is specified via the global option \"--root\"\n"
	  "(default: \"/run/novm\").\n\n"
	  "OPTIONS:\n"
	  "   --format value, -f value  select one of: table or json (default: \"table\")\n"
	  "   --quiet, -q               display only container IDs\n" },
	{ "pause", cmd_pause, "pause suspends all processes inside the container", "<container-id>",
	  ID_TEXT
	  "DESCRIPTION:\n"
	  "   The pause command stops the container's VM (its vCPUs).\n" },
	{ "ps", cmd_ps, "ps displays the processes running inside a container",
	  "[command options] <container-id> [ps options]",
	  "OPTIONS:\n"
	  "   --format value, -f value  select one of: table or json (default: \"table\")\n\n"
	  "The table lists the processes inside the VM as `ps -ef` does, or with the ps\n"
	  "options given after the id (-e, -f, -o with pid, ppid, uid, user, c, stime, tty,\n"
	  "time, etime, cmd, args, comm); json lists the host pids that stand for the\n"
	  "container (its VMM and exec processes).\n" },
	{ "restore", cmd_restore, "restore a container from a previous checkpoint (not supported)",
	  "[command options] <container-id>",
	  "DESCRIPTION:\n"
	  "   novm does not save a VM's memory: restore fails.\n" },
	{ "resume", cmd_resume, "resumes all processes that have been previously paused",
	  "<container-id>", ID_TEXT },
	{ "run", cmd_run, "create and run a container", "[command options] <container-id>",
	  ID_TEXT
	  "DESCRIPTION:\n"
	  "   The run command creates the container's VM from the bundle, starts its process\n"
	  "and waits for it, exiting with its status.\n\n"
	  "OPTIONS:\n"
	  "   --bundle value, -b value  path to the root of the bundle directory, defaults to the current directory\n"
	  "   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal\n"
	  "   --detach, -d              detach from the container's process\n"
	  "   --keep                    do not delete the container after it exits\n"
	  "   --pid-file value          specify the file to write the process id to\n"
	  "   --pidfd-socket value      path to an AF_UNIX socket which will receive a file descriptor referencing the container's process (its VMM)\n"
	  "   --no-subreaper            accepted for compatibility\n"
	  "   --no-pivot                accepted for compatibility\n"
	  "   --no-new-keyring          accepted for compatibility\n"
	  "   --preserve-fds value      only 0: host fds cannot enter a VM (default: 0)\n" },
	{ "spec", cmd_spec, "create a new specification file", "[command options]",
	  "OPTIONS:\n"
	  "   --bundle value, -b value  path to the root of the bundle directory\n"
	  "   --rootless                not supported (a VM needs /dev/kvm)\n" },
	{ "start", cmd_start, "executes the user defined process in a created container",
	  "<container-id>", ID_TEXT },
	{ "state", cmd_state, "output the state of a container", "<container-id>", ID_TEXT },
	{ "update", cmd_update, "update container resource constraints",
	  "[command options] <container-id>",
	  "OPTIONS:\n"
	  "   --resources value, -r value  path to the file containing the resources to update or '-' to read from the standard input\n\n"
	  "Memory, CPU quota/period/shares and the pids limit go to the VMM's cgroup on the\n"
	  "host. A VM's RAM is set when it boots: a memory limit it cannot hold is refused.\n"
	  "The VM keeps its vCPUs; cpuset, realtime and block I/O settings have no effect.\n\n"
	  "   --blkio-weight value        Specifies per cgroup weight, range is from 10 to 1000 (default: 0)\n"
	  "   --cpu-period value          CPU CFS period to be used for hardcapping (in usecs). 0 to use system default\n"
	  "   --cpu-quota value           CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period\n"
	  "   --cpu-share value           CPU shares (relative weight vs. other containers)\n"
	  "   --cpu-rt-period value       CPU realtime period to be used for hardcapping (in usecs). 0 to use system default\n"
	  "   --cpu-rt-runtime value      CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period\n"
	  "   --cpuset-cpus value         CPU(s) to use\n"
	  "   --cpuset-mems value         Memory node(s) to use\n"
	  "   --memory value              Memory limit (in bytes)\n"
	  "   --memory-reservation value  Memory reservation or soft_limit (in bytes)\n"
	  "   --memory-swap value         Total memory usage (memory + swap); set '-1' to enable unlimited swap\n"
	  "   --pids-limit value          Maximum number of pids allowed in the container (default: 0)\n"
	  "   --l3-cache-schema value     The string of Intel RDT/CAT L3 cache schema\n"
	  "   --mem-bw-schema value       The string of Intel RDT/MBA memory bandwidth schema\n"
	  "   --cpu-idle value            set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE (accepted, no effect on the VM)\n"
	  "   --cpu-burst value           CPU CFS hardcap burst limit (in usecs) (accepted, no effect on the VM)\n" },
};

const size_t nr_commands = ARRAY_SIZE(commands);

const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < nr_commands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void cli_print_help(const char *name, FILE *out)
{
	const struct command *c = command_find(name);

	if (!c)
		return;
	fprintf(out, "NAME:\n   novm-runc %s - %s\n\nUSAGE:\n   novm-runc %s%s%s\n\n", c->name, c->summary,
		c->name, *c->usage ? " " : "", c->usage);
	if (c->help)
		fputs(c->help, out);
}
