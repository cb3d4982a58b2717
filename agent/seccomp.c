#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

/* x86_64's x32 ABI: same audit arch, this bit set in the syscall number. */
#define X32_SYSCALL_BIT 0x40000000u
/* seccomp refuses longer programs (BPF_MAXINSNS). */
#define SECCOMP_MAX_INSNS 4096

static int action_value(enum oci_seccomp_action action, bool has_errno, uint32_t errno_ret,
			uint32_t *out, novm_error_t *err)
{
	/* runc's default return for ERRNO and TRACE without errnoRet */
	uint32_t ret = has_errno ? errno_ret : EPERM;

	switch (action) {
	case OCI_SECCOMP_KILL:
	case OCI_SECCOMP_KILL_THREAD:
		*out = SCMP_ACT_KILL_THREAD;
		return 0;
	case OCI_SECCOMP_KILL_PROCESS:
		*out = SCMP_ACT_KILL_PROCESS;
		return 0;
	case OCI_SECCOMP_TRAP:
		*out = SCMP_ACT_TRAP;
		return 0;
	case OCI_SECCOMP_ERRNO:
		*out = SCMP_ACT_ERRNO(ret);
		return 0;
	case OCI_SECCOMP_TRACE:
		*out = SCMP_ACT_TRACE(ret);
		return 0;
	case OCI_SECCOMP_ALLOW:
		*out = SCMP_ACT_ALLOW;
		return 0;
	case OCI_SECCOMP_LOG:
		*out = SCMP_ACT_LOG;
		return 0;
	case OCI_SECCOMP_NOTIFY:
		break;
	}
	return novm_error(err, 0, "seccomp action %s is not supported",
			  oci_seccomp_action_name(action));
}

static enum scmp_compare compare_op(enum oci_seccomp_op op)
{
	switch (op) {
	case OCI_SECCOMP_CMP_NE:
		return SCMP_CMP_NE;
	case OCI_SECCOMP_CMP_LT:
		return SCMP_CMP_LT;
	case OCI_SECCOMP_CMP_LE:
		return SCMP_CMP_LE;
	case OCI_SECCOMP_CMP_EQ:
		return SCMP_CMP_EQ;
	case OCI_SECCOMP_CMP_GE:
		return SCMP_CMP_GE;
	case OCI_SECCOMP_CMP_GT:
		return SCMP_CMP_GT;
	case OCI_SECCOMP_CMP_MASKED_EQ:
		return SCMP_CMP_MASKED_EQ;
	}
	return _SCMP_CMP_MIN;
}

/* "SCMP_ARCH_X86_64" -> "x86_64", the name libseccomp resolves. */
static void arch_short_name(const char *name, char *out, size_t size)
{
	size_t i;

	if (strncmp(name, "SCMP_ARCH_", 10) == 0)
		name += 10;
	for (i = 0; name[i] && i + 1 < size; i++)
		out[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	out[i] = '\0';
}

static int add_arches(scmp_filter_ctx ctx, const struct oci_strv *arches, novm_error_t *err)
{
	for (size_t i = 0; i < arches->len; i++) {
		char name[32];
		uint32_t arch;
		int r;

		arch_short_name(arches->items[i], name, sizeof(name));
		arch = seccomp_arch_resolve_name(name);
		if (!arch)
			continue;
		r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST)
			return novm_error(err, -r, "seccomp: add architecture %s", arches->items[i]);
	}
	return 0;
}

/* The profile's flags, for the seccomp() call that loads the program. */
static int kernel_flags(const struct oci_strv *flags, unsigned *out, novm_error_t *err)
{
	static const struct {
		const char *name;
		unsigned flag;
	} known[] = {
		{ "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
		{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
		{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	};

	for (size_t i = 0; i < flags->len; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(known); k++)
			if (strcmp(flags->items[i], known[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(known))
			return novm_error(err, 0, "seccomp: unknown flag %s", flags->items[i]);
		*out |= known[k].flag;
	}
	return 0;
}

/* Conditions on the same argument twice cannot share a rule in libseccomp;
 * like runc, such a syscall gets one rule per condition (an OR). */
static int add_rule(scmp_filter_ctx ctx, int nr, uint32_t action,
		    const struct oci_seccomp_syscall *sc, const char *name, novm_error_t *err)
{
	struct scmp_arg_cmp conds[6];
	bool repeated = false;
	unsigned count[6] = { 0 };
	int r;

	if (sc->n_args > ARRAY_SIZE(conds))
		return novm_error(err, 0, "seccomp: %s: more than 6 argument conditions", name);
	for (size_t i = 0; i < sc->n_args; i++) {
		const struct oci_seccomp_arg *a = &sc->args[i];

		if (a->index >= 6)
			return novm_error(err, 0, "seccomp: %s: argument index %u", name, a->index);
		conds[i] = (struct scmp_arg_cmp){
			.arg = a->index,
			.op = compare_op(a->op),
			.datum_a = a->value,
			.datum_b = a->value_two,
		};
		repeated |= ++count[a->index] > 1;
	}
	if (!repeated) {
		r = seccomp_rule_add_array(ctx, action, nr, (unsigned)sc->n_args,
					   sc->n_args ? conds : NULL);
		if (r < 0)
			return novm_error(err, -r, "seccomp: rule for %s", name);
		return 0;
	}
	for (size_t i = 0; i < sc->n_args; i++) {
		r = seccomp_rule_add_array(ctx, action, nr, 1, &conds[i]);
		if (r < 0)
			return novm_error(err, -r, "seccomp: rule for %s", name);
	}
	return 0;
}

static int build(scmp_filter_ctx ctx, const struct oci_seccomp *s, uint32_t default_action,
		 novm_error_t *err)
{
	int r;

	/* no_new_privs is the process spec's business, not the filter's */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return novm_error(err, -r, "seccomp: attribute");
	if (add_arches(ctx, &s->architectures, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct oci_seccomp_syscall *sc = &s->syscalls[i];
		uint32_t action;

		if (action_value(sc->action, sc->has_errno_ret, sc->errno_ret, &action, err) < 0)
			return -1;
		if (action == default_action)
			continue;
		for (size_t j = 0; j < sc->names.len; j++) {
			int nr = seccomp_syscall_resolve_name(sc->names.items[j]);

			if (nr == __NR_SCMP_ERROR)
				continue;
			if (add_rule(ctx, nr, action, sc, sc->names.items[j], err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Whether libc's fallbacks need ENOSYS for syscalls newer than the profile:
 * not when those run anyway, or the tracer or log is the profile's answer. */
static bool wants_enosys(enum oci_seccomp_action default_action)
{
	switch (default_action) {
	case OCI_SECCOMP_KILL:
	case OCI_SECCOMP_KILL_PROCESS:
	case OCI_SECCOMP_KILL_THREAD:
	case OCI_SECCOMP_TRAP:
	case OCI_SECCOMP_ERRNO:
		return true;
	default:
		return false;
	}
}

static struct seccomp_arch_max *arch_entry(struct seccomp_arch_max *arches, size_t *n,
					   uint32_t audit_arch, novm_error_t *err)
{
	for (size_t i = 0; i < *n; i++)
		if (arches[i].arch == audit_arch)
			return &arches[i];
	if (*n == SECCOMP_ARCHES_MAX) {
		novm_error(err, 0, "seccomp: more than %d architectures", SECCOMP_ARCHES_MAX);
		return NULL;
	}
	arches[*n] = (struct seccomp_arch_max){ audit_arch, UINT32_MAX, UINT32_MAX };
	return &arches[(*n)++];
}

/* The highest number the profile names on one libseccomp arch. */
static uint32_t arch_max(const struct oci_seccomp *s, uint32_t token)
{
	uint32_t max = UINT32_MAX;

	for (size_t i = 0; i < s->n_syscalls; i++) {
		for (size_t j = 0; j < s->syscalls[i].names.len; j++) {
			int nr = seccomp_syscall_resolve_name_arch(token, s->syscalls[i].names.items[j]);

			/* negative: unknown here, or a socketcall/ipc pseudo number */
			if (nr >= 0 && (max == UINT32_MAX || (uint32_t)nr > max))
				max = (uint32_t)nr;
		}
	}
	return max;
}

int seccomp_arch_maxes(const struct oci_seccomp *s, struct seccomp_arch_max *out, size_t *n,
		       novm_error_t *err)
{
	*n = 0;
	for (size_t i = 0; i <= s->architectures.len; i++) {
		uint32_t token = seccomp_arch_native();
		struct seccomp_arch_max *e;
		char name[32];

		if (i < s->architectures.len) {
			arch_short_name(s->architectures.items[i], name, sizeof(name));
			token = seccomp_arch_resolve_name(name);
			if (!token)
				continue;	/* skipped by add_arches() too */
		}
		/* libseccomp's x32 token is its own; the kernel reports x32 as
		 * x86_64 with the x32 bit in the number. */
		e = arch_entry(out, n, token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token, err);
		if (!e)
			return -1;
		if (token == SCMP_ARCH_X32)
			e->max_x32 = arch_max(s, token);
		else
			e->max = arch_max(s, token);
	}
	return 0;
}

/* Jump targets before they are resolved into offsets (real offsets inside
 * a group are small). */
#define TO_ENOSYS 0xff
#define TO_PROGRAM 0xfe

static void put(struct sock_filter *f, size_t *len, uint16_t code, uint8_t jt, uint8_t jf,
		uint32_t k)
{
	f[(*len)++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
}

static int resolve_target(uint8_t *j, size_t at, size_t enosys, size_t program,
			  novm_error_t *err)
{
	size_t target;

	if (*j != TO_ENOSYS && *j != TO_PROGRAM)
		return 0;
	target = *j == TO_ENOSYS ? enosys : program;
	if (target - at - 1 > 255)
		return novm_error(err, 0, "seccomp: ENOSYS prefix too long");
	*j = (uint8_t)(target - at - 1);
	return 0;
}

int seccomp_enosys_prefix(const struct seccomp_arch_max *arches, size_t n,
			  struct sock_filter *out, size_t *len, novm_error_t *err)
{
	const uint32_t nr = offsetof(struct seccomp_data, nr);
	const uint32_t arch = offsetof(struct seccomp_data, arch);
	size_t l = 0;

	if (n > SECCOMP_ARCHES_MAX)
		return novm_error(err, 0, "seccomp: more than %d architectures", SECCOMP_ARCHES_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct seccomp_arch_max *a = &arches[i];
		bool x86_64 = a->arch == AUDIT_ARCH_X86_64;

		if (a->max == UINT32_MAX && a->max_x32 == UINT32_MAX)
			continue;
		/* Not this arch: skip the group.  Above its max: ENOSYS; else
		 * the profile decides.  Comparing with UINT32_MAX never
		 * jumps: "no max" needs no case of its own. */
		put(out, &l, BPF_LD | BPF_W | BPF_ABS, 0, 0, arch);
		put(out, &l, BPF_JMP | BPF_JEQ | BPF_K, 0, x86_64 ? 4 : 2, a->arch);
		put(out, &l, BPF_LD | BPF_W | BPF_ABS, 0, 0, nr);
		if (x86_64)
			put(out, &l, BPF_JMP | BPF_JSET | BPF_K, 1, 0, X32_SYSCALL_BIT);
		put(out, &l, BPF_JMP | BPF_JGT | BPF_K, TO_ENOSYS, TO_PROGRAM, a->max);
		if (x86_64)
			put(out, &l, BPF_JMP | BPF_JGT | BPF_K, TO_ENOSYS, TO_PROGRAM, a->max_x32);
	}
	if (l == 0) {
		*len = 0;
		return 0;
	}
	/* no arch matched: on to the program, which knows what to do */
	put(out, &l, BPF_JMP | BPF_JA, 0, 0, 1);
	put(out, &l, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS);
	for (size_t i = 0; i + 2 < l; i++) {
		if (BPF_CLASS(out[i].code) != BPF_JMP)
			continue;
		if (resolve_target(&out[i].jt, i, l - 1, l, err) < 0 ||
		    resolve_target(&out[i].jf, i, l - 1, l, err) < 0)
			return -1;
	}
	*len = l;
	return 0;
}

static int read_at(int fd, void *buf, size_t size, novm_error_t *err)
{
	for (size_t done = 0; done < size;) {
		ssize_t r = pread(fd, (char *)buf + done, size - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return novm_error(err, r < 0 ? errno : EIO, "seccomp: read the exported filter");
		done += (size_t)r;
	}
	return 0;
}

/* libseccomp's program, exported, behind the ENOSYS prefix. */
static int assemble(scmp_filter_ctx ctx, const struct oci_seccomp *s, struct sock_filter **out,
		    size_t *len, novm_error_t *err)
{
	cleanup_close int fd = memfd_create("novm-seccomp", MFD_CLOEXEC);
	cleanup_free struct sock_filter *insns = NULL;
	size_t n_prefix = 0, n_prog;
	off_t size;
	int r;

	if (fd < 0)
		return novm_error(err, errno, "seccomp: memfd");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return novm_error(err, -r, "seccomp: export the filter");
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(*insns) ||
	    size > SECCOMP_MAX_INSNS * (off_t)sizeof(*insns))
		return novm_error(err, 0, "seccomp: exported filter of %lld bytes", (long long)size);
	n_prog = (size_t)size / sizeof(*insns);
	insns = calloc(SECCOMP_PREFIX_MAX + n_prog, sizeof(*insns));
	if (!insns)
		return novm_error(err, ENOMEM, "seccomp filter");
	if (wants_enosys(s->default_action)) {
		struct seccomp_arch_max arches[SECCOMP_ARCHES_MAX];
		size_t n_arches;

		if (seccomp_arch_maxes(s, arches, &n_arches, err) < 0 ||
		    seccomp_enosys_prefix(arches, n_arches, insns, &n_prefix, err) < 0)
			return -1;
	}
	if (n_prefix + n_prog > SECCOMP_MAX_INSNS)
		return novm_error(err, 0, "seccomp: filter of %zu instructions, at most %d",
				  n_prefix + n_prog, SECCOMP_MAX_INSNS);
	if (read_at(fd, insns + n_prefix, (size_t)size, err) < 0)
		return -1;
	*out = steal_pointer(&insns);
	*len = n_prefix + n_prog;
	return 0;
}

int seccomp_program(const struct oci_seccomp *s, struct sock_filter **out, size_t *len,
		    unsigned *flags, novm_error_t *err)
{
	uint32_t default_action;
	scmp_filter_ctx ctx;
	int r;

	*flags = 0;
	if (action_value(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
			 &default_action, err) < 0 ||
	    kernel_flags(&s->flags, flags, err) < 0)
		return -1;
	ctx = seccomp_init(default_action);
	if (!ctx)
		return novm_error(err, 0, "seccomp: init failed");
	r = build(ctx, s, default_action, err);
	if (r == 0)
		r = assemble(ctx, s, out, len, err);
	seccomp_release(ctx);
	return r < 0 ? -1 : 0;
}

int seccomp_apply(const struct oci_seccomp *s, novm_error_t *err)
{
	cleanup_free struct sock_filter *insns = NULL;
	struct sock_fprog prog;
	unsigned flags;
	size_t len;
	long r;

	if (seccomp_program(s, &insns, &len, &flags, err) < 0)
		return -1;
	prog = (struct sock_fprog){ .len = (unsigned short)len, .filter = insns };
	r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return novm_error(err, errno, "seccomp: load the filter");
	/* TSYNC's failure: the thread that could not take the filter */
	if (r > 0)
		return novm_error(err, 0, "seccomp: thread %ld cannot take the filter", r);
	return 0;
}
