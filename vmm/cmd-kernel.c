/* novm kernel: manage the kernel store (fetch, import, list, rm). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cleanup.h"
#include "commands.h"
#include "jsonstr.h"
#include "kstore/kfetch.h"
#include "kstore/kstore.h"

#define OPT_STORE 1000
#define STORE_HELP "  --store DIR   kernel store (default $NOVM_KERNEL_STORE or " KSTORE_DEFAULT_ROOT ")\n"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static int report(novm_error_t *err, const char *sub)
{
	char prog[32];
	snprintf(prog, sizeof(prog), "novm kernel %s", sub);
	novm_error_print(err, prog);
	return 1;
}

static int fetch(int argc, char **argv);
static int import(int argc, char **argv);
static int list(int argc, char **argv);
static int rm(int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "fetch", fetch,
	  "fetch [--release R] [--name N] [--default] [--store DIR]\n"
	  "\n"
	  "Downloads Debian's generic kernel package (what linux-image-amd64 depends on, or\n"
	  "linux-image-R) with apt-get, without installing it, and imports its kernel and\n"
	  "the modules a guest needs.  Nothing is done when the release is already there.\n"
	  "\n"
	  "  --release R   kernel release, e.g. 6.1.0-56-amd64 (default: Debian's current one)\n"
	  "  --name N      store entry name (default: the release)\n"
	  "  --default     make it the default kernel (the first kernel always is)\n" STORE_HELP },
	{ "import", import,
	  "import [--bzimage F | --vmlinux F] [--modules DIR] [--name N] [--default] [--store DIR]\n"
	  "\n"
	  "Adds a kernel to the store.  Without --bzimage or --vmlinux, imports the running\n"
	  "host kernel (/boot/vmlinuz-$(uname -r) and /lib/modules/$(uname -r)).\n"
	  "\n"
	  "  --bzimage F   compressed kernel (vmlinuz); its vmlinux is extracted now\n"
	  "  --vmlinux F   uncompressed x86-64 ELF kernel\n"
	  "  --modules DIR lib/modules/<release> to take the guest's modules from\n"
	  "  --name N      store entry name (default: the kernel release)\n"
	  "  --default     make it the default kernel (the first kernel always is)\n" STORE_HELP },
	{ "list", list,
	  "list [--format table|json] [--store DIR]\n"
	  "\n"
	  "Lists the kernels in the store: name, release, default mark and size.\n"
	  "\n"
	  "  --format F    table (default) or json\n" STORE_HELP },
	{ "rm", rm,
	  "rm NAME [--store DIR]\n"
	  "\n"
	  "Removes a kernel from the store (and the default mark when it had it).\n"
	  "\n" STORE_HELP },
};

static const struct subcommand *find_subcommand(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: novm kernel <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++) {
		const char *u = subcommands[i].usage;
		fprintf(out, "  novm kernel %.*s\n", (int)strcspn(u, "\n"), u);
	}
	fprintf(out, "\n`novm kernel <command> --help` describes each command.\n");
}

static int sub_usage(const char *name, FILE *out, int status)
{
	fprintf(out, "usage: novm kernel %s", find_subcommand(name)->usage);
	return status;
}

static void print_imported(const char *store, const char *name)
{
	struct kernel_ref ref;
	cleanup_free char *default_name = NULL;
	novm_error_t err = NULL;

	if (kstore_resolve(store, name, &ref, &err) < 0) {
		novm_error_release(&err);
		printf("imported kernel `%s`\n", name);
		return;
	}
	kstore_default(store, &default_name, &err);
	novm_error_release(&err);
	printf("imported kernel `%s` (release %s%s%s) into %s\n", name, ref.release ? ref.release : "unknown",
	       ref.modules_dir ? ", with modules" : ", no modules",
	       default_name && !strcmp(default_name, name) ? ", default" : "", store);
	kernel_ref_release(&ref);
}

static int fetch(int argc, char **argv)
{
	static const struct option options[] = {
		{ "release", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "default", no_argument, NULL, 'd' },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_error novm_error_t err = NULL;
	cleanup_free char *latest = NULL, *existing = NULL, *name = NULL;
	const char *store = kstore_root(), *release = NULL, *want_name = NULL;
	struct kfetch_result got = { 0 };
	bool make_default = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'r': release = optarg; break;
		case 'n': want_name = optarg; break;
		case 'd': make_default = true; break;
		case OPT_STORE: store = optarg; break;
		case 'h': return sub_usage("fetch", stdout, 0);
		default: return sub_usage("fetch", stderr, 2);
		}
	}
	if (optind != argc)
		return sub_usage("fetch", stderr, 2);
	if (!release) {
		if (kfetch_latest_release(&latest, &err) < 0)
			return report(&err, "fetch");
		release = latest;
	}
	if (!kfetch_valid_release(release)) {
		fprintf(stderr, "novm kernel fetch: invalid kernel release `%s`\n", release);
		return 2;
	}
	if (kstore_find_release(store, release, &existing, &err) < 0)
		return report(&err, "fetch");
	if (existing) {
		if (make_default && kstore_set_default(store, existing, &err) < 0)
			return report(&err, "fetch");
		printf("kernel %s is already in %s as `%s`%s\n", release, store, existing,
		       make_default ? " (now the default)" : "");
		return 0;
	}
	fprintf(stderr, "novm kernel fetch: downloading linux-image-%s\n", release);
	if (kfetch_download(release, &got, &err) < 0)
		return report(&err, "fetch");
	struct kstore_import imp = {
		.bzimage = got.bzimage,
		.modules_dir = got.modules_dir,
		.name = want_name,
		.release = release,
		.make_default = make_default,
	};
	int r = kstore_import(store, &imp, &name, &err);
	kfetch_result_release(&got);
	if (r < 0)
		return report(&err, "fetch");
	print_imported(store, name);
	return 0;
}

/* The running kernel as the import default, when the host keeps it in /boot. */
static int host_kernel(char **bzimage, char **modules, novm_error_t *err)
{
	struct utsname u;
	struct stat st;

	if (uname(&u) < 0)
		return novm_error(err, errno, "uname");
	if (asprintf(bzimage, "/boot/vmlinuz-%s", u.release) < 0)
		return novm_error(err, ENOMEM, "import");
	if (stat(*bzimage, &st) < 0)
		return novm_error(err, errno,
				  "no --bzimage or --vmlinux given and the host kernel `%s` is not "
				  "readable (`novm kernel fetch` gets Debian's kernel instead)",
				  *bzimage);
	if (asprintf(modules, "/lib/modules/%s", u.release) < 0)
		return novm_error(err, ENOMEM, "import");
	if (stat(*modules, &st) < 0) {
		free(*modules);
		*modules = NULL;
	}
	return 0;
}

static int import(int argc, char **argv)
{
	static const struct option options[] = {
		{ "bzimage", required_argument, NULL, 'b' },
		{ "vmlinux", required_argument, NULL, 'v' },
		{ "modules", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "default", no_argument, NULL, 'd' },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_error novm_error_t err = NULL;
	cleanup_free char *host_bzimage = NULL, *host_modules = NULL, *name = NULL;
	const char *store = kstore_root();
	struct kstore_import imp = { 0 };
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'b': imp.bzimage = optarg; break;
		case 'v': imp.vmlinux = optarg; break;
		case 'm': imp.modules_dir = optarg; break;
		case 'n': imp.name = optarg; break;
		case 'd': imp.make_default = true; break;
		case OPT_STORE: store = optarg; break;
		case 'h': return sub_usage("import", stdout, 0);
		default: return sub_usage("import", stderr, 2);
		}
	}
	if (optind != argc)
		return sub_usage("import", stderr, 2);
	if (imp.bzimage && imp.vmlinux) {
		fprintf(stderr, "novm kernel import: give --bzimage or --vmlinux, not both\n");
		return 2;
	}
	if (!imp.bzimage && !imp.vmlinux) {
		if (host_kernel(&host_bzimage, &host_modules, &err) < 0)
			return report(&err, "import");
		imp.bzimage = host_bzimage;
		if (!imp.modules_dir)
			imp.modules_dir = host_modules;
	}
	if (kstore_import(store, &imp, &name, &err) < 0)
		return report(&err, "import");
	print_imported(store, name);
	return 0;
}

static void human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGT";
	double v = bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
}

static int list(int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_error novm_error_t err = NULL;
	const char *store = kstore_root();
	bool json = false;
	struct kstore_entry *entries;
	size_t n;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (strcmp(optarg, "table") && strcmp(optarg, "json")) {
				fprintf(stderr, "novm kernel list: --format must be table or json, not `%s`\n",
					optarg);
				return 2;
			}
			json = !strcmp(optarg, "json");
			break;
		case OPT_STORE: store = optarg; break;
		case 'h': return sub_usage("list", stdout, 0);
		default: return sub_usage("list", stderr, 2);
		}
	}
	if (optind != argc)
		return sub_usage("list", stderr, 2);
	if (kstore_list(store, &entries, &n, &err) < 0)
		return report(&err, "list");
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_write_string(stdout, entries[i].name);
			printf(",\"release\":");
			json_write_string(stdout, entries[i].release);
			printf(",\"default\":%s,\"size\":%llu}", json_bool(entries[i].is_default),
			       (unsigned long long)entries[i].size);
		}
		printf("]\n");
	} else {
		printf("%-24s %-24s %-7s %s\n", "NAME", "RELEASE", "DEFAULT", "SIZE");
		for (size_t i = 0; i < n; i++) {
			char size[16];
			human_size(entries[i].size, size, sizeof(size));
			printf("%-24s %-24s %-7s %s\n", entries[i].name, entries[i].release,
			       entries[i].is_default ? "*" : "", size);
		}
	}
	kstore_entries_free(entries, n);
	return 0;
}

static int rm(int argc, char **argv)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, OPT_STORE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_error novm_error_t err = NULL;
	const char *store = kstore_root();
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_STORE: store = optarg; break;
		case 'h': return sub_usage("rm", stdout, 0);
		default: return sub_usage("rm", stderr, 2);
		}
	}
	if (optind + 1 != argc)
		return sub_usage("rm", stderr, 2);
	if (kstore_remove(store, argv[optind], &err) < 0)
		return report(&err, "rm");
	printf("removed kernel `%s` from %s\n", argv[optind], store);
	return 0;
}

int cmd_kernel(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	const struct subcommand *sub = find_subcommand(argv[1]);
	if (!sub) {
		fprintf(stderr, "novm kernel: unknown command `%s`\n", argv[1]);
		usage(stderr);
		return 2;
	}
	optind = 1;
	return sub->run(argc - 1, argv + 1);
}
