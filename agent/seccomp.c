#include "seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"

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

static int set_flags(scmp_filter_ctx ctx, const struct oci_strv *flags, novm_error_t *err)
{
	static const struct {
		const char *name;
		enum scmp_filter_attr attr;
	} known[] = {
		{ "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC },
		{ "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG },
		{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB },
	};

	for (size_t i = 0; i < flags->len; i++) {
		size_t k;
		int r;

		for (k = 0; k < ARRAY_SIZE(known); k++)
			if (strcmp(flags->items[i], known[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(known))
			return novm_error(err, 0, "seccomp: unknown flag %s", flags->items[i]);
		r = seccomp_attr_set(ctx, known[k].attr, 1);
		if (r < 0)
			return novm_error(err, -r, "seccomp: flag %s", flags->items[i]);
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
	if (add_arches(ctx, &s->architectures, err) < 0 || set_flags(ctx, &s->flags, err) < 0)
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

int seccomp_apply(const struct oci_seccomp *s, novm_error_t *err)
{
	uint32_t default_action;
	scmp_filter_ctx ctx;
	int r;

	if (action_value(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
			 &default_action, err) < 0)
		return -1;
	ctx = seccomp_init(default_action);
	if (!ctx)
		return novm_error(err, 0, "seccomp: init failed");
	r = build(ctx, s, default_action, err);
	if (r == 0) {
		r = seccomp_load(ctx);
		if (r < 0)
			r = novm_error(err, -r, "seccomp: load the filter");
	}
	seccomp_release(ctx);
	return r < 0 ? -1 : 0;
}
