/* novm boot: a bare VM with the console on stdout. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "kstore/initramfs.h"
#include "kstore/kstore.h"
#include "vmm.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: novm boot [options]\n"
		"\n"
		"Boots a kernel in a new KVM guest with its console on stdout. Exits 0 when the\n"
		"guest powers off or reboots, non-zero on a guest panic, triple fault or error.\n"
		"\n"
		"  --kernel NAME|PATH  kernel store entry, bzImage or vmlinux (default: the store's default)\n"
		"  --initrd FILE       initramfs (default: the agent and the kernel's modules)\n"
		"  --cmdline STRING    appended to the default kernel command line\n"
		"  --raw-cmdline STRING  replaces the default kernel command line\n"
		"  --cpus N            vCPUs (default 1)\n"
		"  --memory MiB        guest memory (default 256)\n"
		"  --share TAG=DIR[:ro]  serve DIR to the guest by virtio-fs under TAG (repeatable)\n"
		"  --nic tap=NAME[,mac=MAC]  a virtio-net NIC on the existing tap NAME (repeatable);\n"
		"                      MAC xx:xx:xx:xx:xx:xx, default a random locally administered one\n"
		"  --store DIR         kernel store (default $NOVM_KERNEL_STORE or %s)\n"
		"  --print-initrd      print the path of the default initramfs and exit\n"
		"  --print-cmdline     print the kernel command line and exit\n",
		KSTORE_DEFAULT_ROOT);
}

static int parse_number(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "novm boot: invalid %s `%s`: must be a number from %ld to %ld\n", opt, s,
			min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* TAG=DIR[:ro] */
static int parse_share(char *arg, struct vm_share *share)
{
	char *eq = strchr(arg, '=');
	size_t len;

	if (!eq || eq == arg || !eq[1]) {
		fprintf(stderr, "novm boot: invalid --share `%s`: expected TAG=DIR[:ro]\n", arg);
		return -1;
	}
	*eq = '\0';
	len = strlen(eq + 1);
	/* Whole: fields this option does not set (only_name) stay NULL. */
	*share = (struct vm_share){ .tag = arg, .path = eq + 1 };
	share->readonly = len > 3 && !strcmp(eq + 1 + len - 3, ":ro");
	if (share->readonly)
		eq[1 + len - 3] = '\0';
	return 0;
}

/* xx:xx:xx:xx:xx:xx, unicast (a guest NIC cannot take a group address). */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int end = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || s[end] || strlen(s) != 17) {
		fprintf(stderr, "novm boot: invalid MAC `%s`: expected xx:xx:xx:xx:xx:xx\n", s);
		return -1;
	}
	if (b[0] & 1) {
		fprintf(stderr, "novm boot: invalid MAC `%s`: a multicast address\n", s);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		fprintf(stderr, "novm boot: invalid MAC `%s`: all zero\n", s);
		return -1;
	}
	return 0;
}

/* tap=NAME[,mac=MAC] */
static int parse_nic(char *arg, struct vm_nic *nic)
{
	char *save = NULL;
	bool have_mac = false;

	*nic = (struct vm_nic){ 0 };
	for (char *kv = strtok_r(arg, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "tap=", 4) && kv[4]) {
			nic->tap = kv + 4;
		} else if (!strncmp(kv, "mac=", 4)) {
			if (parse_mac(kv + 4, nic->mac) < 0)
				return -1;
			have_mac = true;
		} else {
			fprintf(stderr, "novm boot: invalid --nic `%s`: expected tap=NAME[,mac=MAC]\n",
				kv);
			return -1;
		}
	}
	if (!nic->tap) {
		fprintf(stderr, "novm boot: --nic needs tap=NAME\n");
		return -1;
	}
	if (!have_mac) {
		if (getrandom(nic->mac, sizeof(nic->mac), 0) != sizeof(nic->mac)) {
			perror("novm boot: random MAC");
			return -1;
		}
		/* Locally administered, unicast. */
		nic->mac[0] = (nic->mac[0] & 0xfc) | 0x02;
	}
	return 0;
}

static int status_for(const struct vmm_result *result)
{
	switch (result->reason) {
	case VM_EXIT_RESET:
		return 0;
	case VM_EXIT_SIGNAL:
		fprintf(stderr, "novm boot: %s\n", result->message);
		return 130;
	default:
		fprintf(stderr, "novm boot: guest failed: %s\n", result->message);
		return 1;
	}
}

int cmd_boot(int argc, char **argv)
{
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "raw-cmdline", required_argument, NULL, 'C' },
		{ "cpus", required_argument, NULL, 'p' },
		{ "memory", required_argument, NULL, 'm' },
		{ "store", required_argument, NULL, 's' },
		{ "print-initrd", no_argument, NULL, 'P' },
		{ "print-cmdline", no_argument, NULL, 'L' },
		{ "share", required_argument, NULL, 'S' },
		{ "nic", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_error novm_error_t err = NULL;
	cleanup_free char *cmdline = NULL, *default_initrd = NULL;
	const char *kernel = NULL, *initrd = NULL, *extra = NULL, *raw = NULL;
	const char *store = kstore_root();
	long cpus = 1, memory = 256;
	bool print_initrd = false, print_cmdline = false;
	struct vm_share shares[8];
	int nr_shares = 0;
	struct vm_nic nics[4];
	int nr_nics = 0;
	struct kernel_ref ref = { 0 };
	int opt, status = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'k': kernel = optarg; break;
		case 'i': initrd = optarg; break;
		case 'c': extra = optarg; break;
		case 'C': raw = optarg; break;
		case 's': store = optarg; break;
		case 'P': print_initrd = true; break;
		case 'L': print_cmdline = true; break;
		case 'S':
			if (nr_shares == (int)ARRAY_SIZE(shares)) {
				fprintf(stderr, "novm boot: at most %zu --share options\n", ARRAY_SIZE(shares));
				return 2;
			}
			if (parse_share(optarg, &shares[nr_shares]) < 0)
				return 2;
			nr_shares++;
			break;
		case 'n':
			if (nr_nics == (int)ARRAY_SIZE(nics)) {
				fprintf(stderr, "novm boot: at most %zu --nic options\n", ARRAY_SIZE(nics));
				return 2;
			}
			if (parse_nic(optarg, &nics[nr_nics]) < 0)
				return 2;
			nr_nics++;
			break;
		case 'p':
			if (parse_number("--cpus", optarg, 1, VMM_MAX_CPUS, &cpus) < 0)
				return 2;
			break;
		case 'm':
			if (parse_number("--memory", optarg, VMM_MIN_MEMORY >> 20, 1L << 20, &memory) < 0)
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "novm boot: unexpected argument `%s`\n", argv[optind]);
		return 2;
	}

	if (kstore_resolve(store, kernel, &ref, &err) < 0)
		goto out;
	if (!initrd) {
		if (initramfs_default(ref.modules_dir, &default_initrd, &err) < 0)
			goto out;
		initrd = default_initrd;
	}
	if (print_initrd) {
		printf("%s\n", initrd);
		status = 0;
		goto out;
	}
	if (asprintf(&cmdline, "%s%s%s", raw ? raw : VMM_DEFAULT_CMDLINE, extra ? " " : "", extra ? extra : "") < 0)
		goto out;
	if (print_cmdline) {
		printf("%s\n", cmdline);
		status = 0;
		goto out;
	}

	struct vm_config cfg = {
		.kernel_path = ref.vmlinux,
		.setup_header_path = ref.bzimage,
		.initrd_path = initrd,
		.cmdline = cmdline,
		.nr_cpus = cpus,
		.mem_size = (uint64_t)memory << 20,
		.console_fd = STDOUT_FILENO,
		.console_in_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1,
		.shares = shares,
		.nr_shares = nr_shares,
		.nics = nics,
		.nr_nics = nr_nics,
	};
	struct vmm_result result = { 0 };
	if (vmm_run(&cfg, &result, &err) < 0)
		goto out;
	status = status_for(&result);
out:
	kernel_ref_release(&ref);
	if (err)
		novm_error_print(&err, "novm boot");
	return status;
}
