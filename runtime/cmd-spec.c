/* novm-runc spec: a default config.json, like `runc spec`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "oci/default-spec.h"
#include "runtime.h"

int cmd_spec(const struct runtime_globals *g, int argc, char **argv)
{
	static const struct option options[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_error novm_error_t err = NULL;
	const char *bundle = ".";
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "b:h", options, NULL)) != -1) {
		switch (opt) {
		case 'b':
			bundle = optarg;
			break;
		case 'r':
			novm_error(&err, 0, "spec --rootless: rootless containers are not supported by novm (a VM needs /dev/kvm)");
			log_error_and_release(&err);
			return 1;
		case 'h':
			printf("usage: novm-runc spec [--bundle DIR]\n\nWrites a default config.json into the bundle directory.\n");
			return 0;
		default:
			return 1;
		}
	}
	if (oci_write_default_spec(bundle, &err) < 0) {
		log_error_and_release(&err);
		return 1;
	}
	return 0;
}
