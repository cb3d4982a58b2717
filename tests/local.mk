# Test scripts outside automake's `make check` (tests/run drives them); listed
# so `make dist` ships them.  Unit tests register themselves in their areas.
EXTRA_DIST += \
	dev.sh .ci/run \
	tests/run \
	tests/harness/common.sh tests/harness/nested-run tests/harness/l1-init \
	tests/harness/kvm-probe \
	tests/integration/helpers.bash tests/integration/boot.bats \
	tests/bench/boot-bench
