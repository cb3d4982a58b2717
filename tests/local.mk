# Test scripts outside automake's `make check` (tests/run drives them); listed
# so `make dist` ships them.  Unit tests register themselves in their areas.
EXTRA_DIST += \
	dev.sh .ci/run \
	tests/run \
	tests/harness/common.sh tests/harness/nested-run tests/harness/l1-init \
	tests/harness/kvm-probe tests/harness/clients-setup \
	tests/integration/helpers.bash tests/integration/runc.bash \
	tests/integration/clients.bash \
	tests/integration/boot.bats tests/integration/run.bats \
	tests/integration/bad-bundles.bats tests/integration/lifecycle.bats \
	tests/integration/clients.bats tests/integration/runc-cli.bats \
	tests/bench/boot-bench tests/bench/fs-bench tests/bench/run-bench

# Run inside test guests (busybox has no setfattr): static, any rootfs.
noinst_PROGRAMS += tests/integration/xattr-tool
tests_integration_xattr_tool_SOURCES = tests/integration/xattr-tool.c
tests_integration_xattr_tool_LDFLAGS = -static
tests_integration_xattr_tool_CFLAGS = $(WARN_CFLAGS)
