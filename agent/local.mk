# The guest agent: PID 1 of the initramfs, which holds no libraries, so it
# links statically.  Its own CFLAGS leave out the sanitizers (they cannot
# link statically) and it compiles the few lib/ files it needs itself, as
# lib/libnovmutil.a may be built with them.
libexec_novm_PROGRAMS += agent/novm-init
agent_novm_init_CFLAGS = $(WARN_CFLAGS)
agent_novm_init_LDFLAGS = -static
agent_novm_init_SOURCES = \
	agent/main.c \
	agent/log.h agent/log.c \
	agent/console.h agent/console.c \
	agent/mounts.h agent/mounts.c \
	agent/modules.h agent/modules.c \
	agent/modorder.h agent/modorder.c \
	agent/report.h agent/report.c \
	agent/procinfo.h agent/procinfo.c \
	agent/action.h agent/action.c \
	agent/cmdline.h agent/cmdline.c \
	lib/error.h lib/error.c \
	lib/util.h lib/util.c

# The agent's pure parsers, tested on the host.
check_PROGRAMS += tests/unit/test-agent-parse
TESTS += tests/unit/test-agent-parse
tests_unit_test_agent_parse_SOURCES = tests/unit/test-agent-parse.c \
	agent/cmdline.h agent/cmdline.c \
	agent/modorder.h agent/modorder.c \
	agent/procinfo.h agent/procinfo.c
tests_unit_test_agent_parse_LDADD = lib/libnovmutil.a
