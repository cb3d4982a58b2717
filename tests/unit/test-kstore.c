/* Kernel store lookups that must not leave the store: kstore_resolve_entry
 * (what an org.novm.kernel annotation resolves through) refuses paths and
 * files of the working directory that kstore_resolve would take. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"
#include "vmm/kstore/kstore.h"

static char tmpdir[] = "/tmp/test-kstore.XXXXXX";

static bool not_an_entry(const char *store, const char *name)
{
	struct kernel_ref ref;
	novm_error_t err = NULL;
	char want[PATH_MAX + 128];

	snprintf(want, sizeof(want),
		 "kernel `%s` is not an entry of the kernel store `%s` (see `novm kernel list`)", name,
		 store);
	bool refused = kstore_resolve_entry(store, name, &ref, &err) < 0 && err &&
		       !strcmp(err->msg, want) && !ref.vmlinux;
	if (!refused)
		printf("# %s: %s\n", name, err ? err->msg : "(resolved)");
	novm_error_release(&err);
	return refused;
}

int main(void)
{
	char store[sizeof(tmpdir) + 8], entry[sizeof(store) + 8];
	struct kernel_ref ref;
	novm_error_t err = NULL;

	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0)
		return 99;
	snprintf(store, sizeof(store), "%s/store", tmpdir);
	snprintf(entry, sizeof(entry), "%s/broken", store);
	if (mkdir_p(entry, 0755, NULL) < 0 || write_file_atomic("vmlinuz", "junk", 4, 0644, NULL) < 0)
		return 99;

	/* kstore_resolve falls back to a file in the working directory... */
	ok(kstore_resolve(store, "vmlinuz", &ref, &err) < 0 && err &&
		   strstr(err->msg, "neither a vmlinux ELF nor a bzImage"),
	   "kstore_resolve reads a file of the working directory: %s", err ? err->msg : "");
	novm_error_release(&err);
	/* ... the store-only lookup never does. */
	ok(not_an_entry(store, "vmlinuz"), "store only: a file of the working directory is no entry");
	ok(not_an_entry(store, "/etc/passwd"), "store only: an absolute path");
	ok(not_an_entry(store, "../store/broken"), "store only: a relative path");
	ok(not_an_entry(store, "."), "store only: .");
	ok(not_an_entry(store, ".."), "store only: ..");
	ok(not_an_entry(store, "missing"), "store only: a name that is not in the store");
	ok(kstore_resolve_entry(store, "broken", &ref, &err) < 0 && err &&
		   strstr(err->msg, "kernel store entry `broken`") && !ref.vmlinux,
	   "store only: an entry is resolved (this one is broken): %s", err ? err->msg : "");
	novm_error_release(&err);

	remove_tree(tmpdir, NULL);
	return tap_done();
}
