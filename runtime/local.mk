bin_PROGRAMS += runtime/novm-runc
# Everything but main.c is in a library, so the unit tests link the real code.
noinst_LIBRARIES += runtime/libruntime.a
runtime_libruntime_a_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(LIBMNL_CFLAGS)
runtime_libruntime_a_SOURCES = \
	runtime/runtime.h runtime/commands.h runtime/commands.c \
	runtime/cli.h runtime/cli.c \
	runtime/cmd-checkpoint.c runtime/cmd-create.c runtime/cmd-delete.c runtime/cmd-events.c \
	runtime/cmd-exec.c runtime/cmd-features.c runtime/cmd-kill.c runtime/cmd-list.c \
	runtime/cmd-pause.c runtime/cmd-ps.c runtime/cmd-run.c runtime/cmd-spec.c \
	runtime/cmd-start.c runtime/cmd-state.c runtime/cmd-update.c \
	runtime/state.h runtime/state.c runtime/state-json.h runtime/state-json.c \
	runtime/proc.h runtime/proc.c \
	runtime/vm-plan.h runtime/vm-plan.c \
	runtime/create.h runtime/create.c \
	runtime/vmm-child.h runtime/vmm-child.c \
	runtime/lifecycle.h runtime/lifecycle.c \
	runtime/hooks.h runtime/hooks.c \
	runtime/control-client.h runtime/control-client.c \
	runtime/console-socket.h runtime/console-socket.c \
	runtime/cgroup.h runtime/cgroup.c \
	runtime/netns.h runtime/netns.c \
	runtime/rtnl.h runtime/rtnl.c runtime/netconf.h runtime/net-discover.c runtime/net-plumb.c runtime/net-json.c \
	runtime/net-late.c \
	runtime/signals.h runtime/signals.c \
	runtime/duration.h runtime/duration.c \
	runtime/exec-process.h runtime/exec-process.c \
	runtime/exec-session.h runtime/exec-session.c \
	runtime/ps-table.h runtime/ps-table.c \
	runtime/compat.h runtime/compat.c \
	runtime/pod-spec.h runtime/pod-spec.c runtime/pod.h runtime/pod.c \
	runtime/pod-create.h runtime/pod-create.c

RUNTIME_LIBS = runtime/libruntime.a $(OCI_LIBS) $(VMM_LIBS) $(LIBMNL_LIBS)

runtime_novm_runc_SOURCES = runtime/main.c
nodist_runtime_novm_runc_SOURCES = runtime/commit.h
runtime_novm_runc_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS)
runtime_novm_runc_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)

# The commit `novm-runc --version` prints (runc's "commit:" line), looked up
# at every make but rewritten only when it changes, so nothing rebuilds for
# nothing.  "unknown" outside a git checkout (a release tarball).
runtime/commit.h: FORCE
	@c=$$(git -C "$(top_srcdir)" describe --always --dirty --abbrev=40 2>/dev/null || echo unknown); \
	l="#define NOVM_COMMIT \"$$c\""; \
	if [ ! -f $@ ] || [ "$$(cat $@)" != "$$l" ]; then echo "$$l" >$@; fi
FORCE:
BUILT_SOURCES = runtime/commit.h
CLEANFILES += runtime/commit.h
runtime_novm_runc_LDADD = $(RUNTIME_LIBS)

# Unit tests: the pure parts, the state directory, exec processes, and the
# commands against a fake VMM control socket (no KVM needed).
RUNTIME_TESTS = tests/unit/test-runtime-cli tests/unit/test-runtime-state \
	tests/unit/test-runtime-exec tests/unit/test-runtime-commands \
	tests/unit/test-runtime-hooks tests/unit/test-runtime-compat tests/unit/test-runtime-cgroup \
	tests/unit/test-runtime-pod tests/unit/test-runtime-netlate
check_PROGRAMS += $(RUNTIME_TESTS)
TESTS += $(RUNTIME_TESTS)
tests_unit_test_runtime_cli_SOURCES = tests/unit/test-runtime-cli.c tests/unit/tap.h
tests_unit_test_runtime_cli_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_state_SOURCES = tests/unit/test-runtime-state.c tests/unit/tap.h
tests_unit_test_runtime_state_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_exec_SOURCES = tests/unit/test-runtime-exec.c tests/unit/tap.h
tests_unit_test_runtime_exec_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_cgroup_SOURCES = tests/unit/test-runtime-cgroup.c tests/unit/tap.h
tests_unit_test_runtime_cgroup_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_compat_SOURCES = tests/unit/test-runtime-compat.c tests/unit/tap.h
tests_unit_test_runtime_compat_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_hooks_SOURCES = tests/unit/test-runtime-hooks.c tests/unit/tap.h
tests_unit_test_runtime_hooks_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_commands_SOURCES = tests/unit/test-runtime-commands.c \
	tests/unit/test-runtime-cmd.h tests/unit/test-runtime-fake-vmm.h tests/unit/tap.h
tests_unit_test_runtime_commands_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_pod_SOURCES = tests/unit/test-runtime-pod.c tests/unit/test-runtime-cmd.h \
	tests/unit/test-runtime-fake-vmm.h tests/unit/tap.h
tests_unit_test_runtime_pod_LDADD = $(RUNTIME_LIBS)
tests_unit_test_runtime_netlate_SOURCES = tests/unit/test-runtime-netlate.c tests/unit/tap.h \
	tests/unit/test-runtime-fake-vmm.h
tests_unit_test_runtime_netlate_LDADD = $(RUNTIME_LIBS)
