/* The seccomp program the agent loads, run by a classic BPF interpreter on
 * (arch, number) pairs: the ENOSYS prefix for syscalls newer than the
 * profile, alone and in front of libseccomp's program.  No filter is
 * loaded (test-agent-process does that, as root). */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "agent/seccomp.h"
#include "cleanup.h"
#include "tap.h"

#define X32 0x40000000u
#define MARK 0x7fff1234u	/* "on to the program" in prefix-only runs */
#define ENOSYS_RET (SECCOMP_RET_ERRNO | ENOSYS)
#define EPERM_RET (SECCOMP_RET_ERRNO | EPERM)

/* Classic BPF as the kernel runs it for seccomp, the opcodes libseccomp
 * and our prefix use; anything else, a load outside seccomp_data or a
 * jump out of the program is an error (0xdeadbeef). */
static uint32_t run(const struct sock_filter *p, size_t len, uint32_t arch, uint32_t nr)
{
	struct seccomp_data d = { .nr = (int)nr, .arch = arch };
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };

	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &p[pc];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
		bool taken;

		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (i->code == (BPF_LD | BPF_W | BPF_ABS) && i->k % 4 == 0 &&
			    i->k + 4 <= sizeof(d))
				memcpy(&a, (char *)&d + i->k, 4);
			else if (i->code == (BPF_LD | BPF_MEM) && i->k < BPF_MEMWORDS)
				a = mem[i->k];
			else if (i->code == (BPF_LD | BPF_IMM))
				a = i->k;
			else
				return 0xdeadbeef;
			continue;
		case BPF_LDX:
			if (i->code == (BPF_LDX | BPF_MEM) && i->k < BPF_MEMWORDS)
				x = mem[i->k];
			else if (i->code == (BPF_LDX | BPF_IMM))
				x = i->k;
			else
				return 0xdeadbeef;
			continue;
		case BPF_ST:
		case BPF_STX:
			if (i->k >= BPF_MEMWORDS)
				return 0xdeadbeef;
			mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
			continue;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_AND: a &= src; break;
			case BPF_OR: a |= src; break;
			case BPF_ADD: a += src; break;
			case BPF_SUB: a -= src; break;
			default: return 0xdeadbeef;
			}
			continue;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else
				a = x;
			continue;
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? a : i->k;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA) {
				pc += i->k;
				continue;
			}
			switch (BPF_OP(i->code)) {
			case BPF_JEQ: taken = a == src; break;
			case BPF_JGT: taken = a > src; break;
			case BPF_JGE: taken = a >= src; break;
			case BPF_JSET: taken = (a & src) != 0; break;
			default: return 0xdeadbeef;
			}
			pc += taken ? i->jt : i->jf;
			continue;
		default:
			return 0xdeadbeef;
		}
	}
	return 0xdeadbeef;	/* fell off the end */
}

static char *arches_all[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
static char *names_basic[] = { "read", "write", "exit_group", "mkdirat", "no_such_call", NULL };
static char *names_mkdir[] = { "mkdir", NULL };

static struct oci_seccomp_syscall basic_calls[] = {
	{ .names = { names_basic, 5 }, .action = OCI_SECCOMP_ALLOW },
	/* the default's action: not in the program, its number still counts */
	{ .names = { names_mkdir, 1 }, .action = OCI_SECCOMP_ERRNO },
};

static const struct seccomp_arch_max *find(const struct seccomp_arch_max *a, size_t n,
					   uint32_t arch)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].arch == arch)
			return &a[i];
	return NULL;
}

static void test_maxes(void)
{
	struct oci_seccomp s = { .default_action = OCI_SECCOMP_ERRNO,
				 .architectures = { arches_all, 3 },
				 .syscalls = basic_calls, .n_syscalls = 2 };
	struct seccomp_arch_max a[SECCOMP_ARCHES_MAX];
	const struct seccomp_arch_max *x86_64, *i386;
	novm_error_t err = NULL;
	size_t n = 0;

	ok(seccomp_arch_maxes(&s, a, &n, &err) == 0 && n == 2, "two audit arches (x32 is x86_64's)");
	x86_64 = find(a, n, AUDIT_ARCH_X86_64);
	i386 = find(a, n, AUDIT_ARCH_I386);
	/* x86_64: mkdirat 258; i386: mkdirat 296; x32: mkdirat 258 | x32 */
	ok(x86_64 && x86_64->max == 258 && x86_64->max_x32 == (X32 | 258),
	   "x86_64: max 258 (mkdirat), x32 max 0x%x", x86_64 ? x86_64->max_x32 : 0);
	ok(i386 && i386->max == 296 && i386->max_x32 == UINT32_MAX, "i386: max 296 (mkdirat)");

	s.architectures = (struct oci_strv){ 0 };
	ok(seccomp_arch_maxes(&s, a, &n, &err) == 0 && n == 1 && a[0].arch == AUDIT_ARCH_X86_64 &&
	   a[0].max_x32 == UINT32_MAX, "no architectures: the native one, no x32");
	s.n_syscalls = 0;
	ok(seccomp_arch_maxes(&s, a, &n, &err) == 0 && n == 1 && a[0].max == UINT32_MAX,
	   "no syscalls: no max");
	novm_error_release(&err);
}

static void test_prefix(void)
{
	const struct seccomp_arch_max arches[] = {
		{ AUDIT_ARCH_X86_64, 258, X32 | 300 },
		{ AUDIT_ARCH_I386, 296, UINT32_MAX },
		{ AUDIT_ARCH_AARCH64, UINT32_MAX, UINT32_MAX },
	};
	const struct seccomp_arch_max native_only[] = { { AUDIT_ARCH_X86_64, 258, UINT32_MAX } };
	struct sock_filter f[SECCOMP_PREFIX_MAX + 1];
	novm_error_t err = NULL;
	size_t len = 0;

	ok(seccomp_enosys_prefix(arches, 3, f, &len, &err) == 0 && len > 0 &&
	   len <= SECCOMP_PREFIX_MAX, "prefix for x86_64 (+x32), i386 (%zu insns)", len);
	f[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, MARK);
	ok(run(f, len, AUDIT_ARCH_X86_64, 258) == MARK && run(f, len, AUDIT_ARCH_X86_64, 0) == MARK,
	   "x86_64 up to the max: on to the program");
	ok(run(f, len, AUDIT_ARCH_X86_64, 259) == ENOSYS_RET &&
	   run(f, len, AUDIT_ARCH_X86_64, 435) == ENOSYS_RET &&
	   run(f, len, AUDIT_ARCH_X86_64, 0x3fffffff) == ENOSYS_RET, "x86_64 above it: ENOSYS");
	ok(run(f, len, AUDIT_ARCH_X86_64, X32 | 300) == MARK &&
	   run(f, len, AUDIT_ARCH_X86_64, X32 | 301) == ENOSYS_RET &&
	   run(f, len, AUDIT_ARCH_X86_64, 0xffffffffu) == ENOSYS_RET,
	   "x32 numbers against the x32 max");
	ok(run(f, len, AUDIT_ARCH_I386, 296) == MARK && run(f, len, AUDIT_ARCH_I386, 297) == ENOSYS_RET,
	   "i386 against its own max");
	ok(run(f, len, AUDIT_ARCH_AARCH64, 5000) == MARK && run(f, len, 0x12345678, 5000) == MARK,
	   "an arch without a max, or another one: on to the program");

	ok(seccomp_enosys_prefix(native_only, 1, f, &len, &err) == 0, "prefix without x32");
	f[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, MARK);
	ok(run(f, len, AUDIT_ARCH_X86_64, X32 | 39) == MARK && run(f, len, AUDIT_ARCH_X86_64, 259) ==
	   ENOSYS_RET, "no x32 in the profile: x32 numbers are the program's business");
	ok(seccomp_enosys_prefix(arches + 2, 1, f, &len, &err) == 0 && len == 0,
	   "nothing to check: no prefix");
	novm_error_release(&err);
}

static void test_program(void)
{
	static char *flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", NULL };
	static char *bad_flags[] = { "SECCOMP_FILTER_FLAG_NOPE", NULL };
	static char *x86_64_only[] = { "SCMP_ARCH_X86_64", NULL };
	struct oci_seccomp s = { .default_action = OCI_SECCOMP_ERRNO,
				 .architectures = { x86_64_only, 1 },
				 .flags = { flags, 2 },
				 .syscalls = basic_calls, .n_syscalls = 2 };
	cleanup_free struct sock_filter *f = NULL;
	novm_error_t err = NULL;
	unsigned fl = 0;
	size_t len = 0;

	ok(seccomp_program(&s, &f, &len, &fl, &err) == 0 && len > 0, "errno profile: program of %zu",
	   len);
	ok(fl == (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG), "flags TSYNC|LOG (0x%x)", fl);
	ok(run(f, len, AUDIT_ARCH_X86_64, 0) == SECCOMP_RET_ALLOW &&
	   run(f, len, AUDIT_ARCH_X86_64, 258) == SECCOMP_RET_ALLOW, "read, mkdirat allowed");
	ok(run(f, len, AUDIT_ARCH_X86_64, 39) == EPERM_RET &&
	   run(f, len, AUDIT_ARCH_X86_64, 83) == EPERM_RET, "getpid, mkdir: the default EPERM");
	ok(run(f, len, AUDIT_ARCH_X86_64, 435) == ENOSYS_RET &&
	   run(f, len, AUDIT_ARCH_X86_64, 439) == ENOSYS_RET, "clone3, faccessat2: ENOSYS");
	uint32_t x32 = run(f, len, AUDIT_ARCH_X86_64, X32 | 39);
	ok(x32 != ENOSYS_RET && x32 != SECCOMP_RET_ALLOW && x32 != 0xdeadbeef,
	   "an x32 call with x32 not in the profile: libseccomp's answer (0x%x)", x32);

	free(f);
	f = NULL;
	s.default_action = OCI_SECCOMP_KILL_PROCESS;
	ok(seccomp_program(&s, &f, &len, &fl, &err) == 0 &&
	   run(f, len, AUDIT_ARCH_X86_64, 39) == SECCOMP_RET_KILL_PROCESS &&
	   run(f, len, AUDIT_ARCH_X86_64, 1000) == ENOSYS_RET, "kill profile: kill, ENOSYS above");

	free(f);
	f = NULL;
	s.default_action = OCI_SECCOMP_ALLOW;
	basic_calls[0].action = OCI_SECCOMP_ERRNO;
	ok(seccomp_program(&s, &f, &len, &fl, &err) == 0 &&
	   run(f, len, AUDIT_ARCH_X86_64, 1000) == SECCOMP_RET_ALLOW &&
	   run(f, len, AUDIT_ARCH_X86_64, 0) == EPERM_RET, "allow profile: no ENOSYS");
	basic_calls[0].action = OCI_SECCOMP_ALLOW;

	free(f);
	f = NULL;
	s.flags = (struct oci_strv){ bad_flags, 1 };
	ok(seccomp_program(&s, &f, &len, &fl, &err) < 0 && err && strstr(err->msg, "unknown flag"),
	   "unknown flag refused");
	novm_error_release(&err);
}

int main(void)
{
	test_maxes();
	test_prefix();
	test_program();
	return tap_done();
}
