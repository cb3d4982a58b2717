# x86 specifics: vCPU set-up, the zero page and boot state, the MP table.
# Included from vmm/local.mk.
vmm_libvmm_a_SOURCES += \
	vmm/x86/cpu.h vmm/x86/cpu.c \
	vmm/x86/boot.h vmm/x86/boot.c \
	vmm/x86/mptable.h vmm/x86/mptable.c

# The boot structures (E820, zero page, page tables, MP table) without KVM.
check_PROGRAMS += tests/unit/test-boot
TESTS += tests/unit/test-boot
tests_unit_test_boot_SOURCES = tests/unit/test-boot.c tests/unit/tap.h
tests_unit_test_boot_LDADD = $(VMM_LIBS)
tests_unit_test_boot_CPPFLAGS = $(VMM_CPPFLAGS)
