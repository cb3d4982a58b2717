/* The device cgroup program the agent builds from linux.resources.devices,
 * run by a small eBPF interpreter here on (type, major, minor, access)
 * requests: what the kernel would allow or deny, without a kernel. */
#include <stdlib.h>
#include <string.h>

#include "agent/devcgroup.h"
#include "cleanup.h"
#include "tap.h"

#define R OCI_DEVICE_ACCESS_READ
#define W OCI_DEVICE_ACCESS_WRITE
#define M OCI_DEVICE_ACCESS_MKNOD
#define ANY OCI_DEVICE_ANY

/* The subset of eBPF the builder may use, with the checks the verifier
 * would make that matter here: registers read before written, jumps out of
 * the program, an exit without R0.  Returns 1 allow, 0 deny, -1 invalid. */
static int run(const struct bpf_insn *p, size_t len, const struct bpf_cgroup_dev_ctx *ctx)
{
	uint64_t reg[11] = { 0 };
	unsigned set = 1u << BPF_REG_1;	/* R1: the context */
	size_t pc = 0, steps = 0;

	while (pc < len && steps++ < 100000) {
		const struct bpf_insn *i = &p[pc++];
		uint8_t cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
		uint64_t src = BPF_SRC(i->code) == BPF_X ? reg[i->src_reg] : (uint64_t)(int64_t)i->imm;
		uint64_t dst = reg[i->dst_reg];
		bool taken;

		if (i->dst_reg > 10 || i->src_reg > 10)
			return -1;
		if (cls == BPF_LDX) {
			if (i->code != (BPF_LDX | BPF_MEM | BPF_W) || i->src_reg != BPF_REG_1 ||
			    i->off < 0 || (size_t)i->off + 4 > sizeof(*ctx) || i->off % 4)
				return -1;
			uint32_t v;
			memcpy(&v, (const char *)ctx + i->off, 4);
			reg[i->dst_reg] = v;
			set |= 1u << i->dst_reg;
			continue;
		}
		if (BPF_SRC(i->code) == BPF_X && !(set & (1u << i->src_reg)))
			return -1;
		if (cls == BPF_ALU64) {
			if (op != BPF_MOV && !(set & (1u << i->dst_reg)))
				return -1;
			switch (op) {
			case BPF_MOV: reg[i->dst_reg] = src; break;
			case BPF_AND: reg[i->dst_reg] = dst & src; break;
			case BPF_RSH: reg[i->dst_reg] = dst >> (src & 63); break;
			default: return -1;
			}
			set |= 1u << i->dst_reg;
			continue;
		}
		if (cls != BPF_JMP && cls != BPF_JMP32)
			return -1;
		if (op == BPF_EXIT)
			return cls == BPF_JMP && (set & 1) ? (int)reg[0] : -1;
		if (op != BPF_JA && !(set & (1u << i->dst_reg)))
			return -1;
		if (cls == BPF_JMP32) {
			dst = (uint32_t)dst;
			src = (uint32_t)src;
		}
		switch (op) {
		case BPF_JA: taken = true; break;
		case BPF_JEQ: taken = dst == src; break;
		case BPF_JNE: taken = dst != src; break;
		case BPF_JSET: taken = (dst & src) != 0; break;
		default: return -1;
		}
		if (taken) {
			if (i->off < 0 || pc + (size_t)i->off >= len)
				return -1;
			pc += (size_t)i->off;
		}
	}
	return -1;
}

static struct bpf_insn *prog;
static size_t prog_len;

static bool build(const struct oci_device_rule *rules, size_t n)
{
	novm_error_t err = NULL;

	free(prog);
	prog = NULL;
	if (devcgroup_build(rules, n, &prog, &prog_len, &err) < 0) {
		printf("# %s\n", err->msg);
		novm_error_release(&err);
		return false;
	}
	return true;
}

/* The program's verdict on one request; access in OCI bits. */
static int verdict(char type, uint32_t major, uint32_t minor, unsigned access)
{
	uint32_t acc = ((access & R) ? BPF_DEVCG_ACC_READ : 0) |
		       ((access & W) ? BPF_DEVCG_ACC_WRITE : 0) |
		       ((access & M) ? BPF_DEVCG_ACC_MKNOD : 0);
	struct bpf_cgroup_dev_ctx ctx = {
		.access_type = acc << 16 | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
		.major = major,
		.minor = minor,
	};

	return run(prog, prog_len, &ctx);
}

#define ALLOW(t, ma, mi, acc) (verdict(t, ma, mi, acc) == 1)
#define DENY(t, ma, mi, acc) (verdict(t, ma, mi, acc) == 0)

/* runc's default spec (deny all) and the devices runc allows itself. */
static const struct oci_device_rule runc_default[] = {
	{ false, 'a', ANY, ANY, R | W | M },
	{ true, 'c', ANY, ANY, M },
	{ true, 'b', ANY, ANY, M },
	{ true, 'c', 1, 3, R | W | M },		/* null */
	{ true, 'c', 1, 5, R | W | M },		/* zero */
	{ true, 'c', 1, 7, R | W | M },		/* full */
	{ true, 'c', 1, 8, R | W | M },		/* random */
	{ true, 'c', 1, 9, R | W | M },		/* urandom */
	{ true, 'c', 5, 0, R | W | M },		/* tty */
	{ true, 'c', 5, 2, R | W | M },		/* ptmx */
	{ true, 'c', 136, ANY, R | W | M },	/* pts */
};

static void test_runc_default(void)
{
	ok(build(runc_default, ARRAY_SIZE(runc_default)), "runc's default rules build");
	ok(ALLOW('c', 1, 3, R) && ALLOW('c', 1, 3, W) && ALLOW('c', 1, 3, R | W),
	   "/dev/null read, write, both");
	ok(ALLOW('c', 136, 0, R | W) && ALLOW('c', 136, 4095, R | W) && ALLOW('c', 5, 2, R | W),
	   "any pts, ptmx");
	ok(DENY('c', 1, 11, W) && DENY('c', 1, 11, R) && DENY('c', 1, 11, R | W),
	   "/dev/kmsg (c 1:11) denied");
	ok(ALLOW('c', 1, 11, M) && ALLOW('b', 8, 0, M), "mknod of any node allowed");
	ok(DENY('b', 8, 0, R) && DENY('b', 1, 3, R), "block devices denied, b 1:3 is not c 1:3");
	ok(DENY('c', 5, 1, W) && DENY('c', 1, 4, R), "console and c 1:4 denied");
	ok(DENY('c', 0xffffffffu, 3, R) && DENY('c', 1, 0x80000003u, R),
	   "numbers that match 1:3 only in their low bits denied");
}

static void test_last_match_wins(void)
{
	static const struct oci_device_rule hole[] = {
		{ true, 'a', ANY, ANY, R | W | M },
		{ false, 'c', 1, 3, W },
	};
	static const struct oci_device_rule split[] = {
		{ false, 'a', ANY, ANY, R | W | M },
		{ true, 'c', 1, 3, R },
		{ true, 'c', 1, 3, W },
	};
	static const struct oci_device_rule revoke[] = {
		{ false, 'a', ANY, ANY, R | W | M },
		{ true, 'c', 10, ANY, R | W },
		{ false, 'c', ANY, 200, W },
	};
	static const struct oci_device_rule reallow[] = {
		{ false, 'c', 1, 3, R | W | M },
		{ true, 'c', 1, 3, R },
	};
	static const struct oci_device_rule big[] = {
		{ false, 'a', ANY, ANY, R | W | M },
		{ true, 'c', 4000000000u, 0xfffffu, R },
	};

	ok(build(hole, ARRAY_SIZE(hole)) && DENY('c', 1, 3, W) && DENY('c', 1, 3, R | W) &&
	   ALLOW('c', 1, 3, R) && ALLOW('c', 1, 4, W) && ALLOW('b', 1, 3, W),
	   "allow all, then deny c 1:3 w: only writes to c 1:3 are denied");
	ok(build(split, ARRAY_SIZE(split)) && ALLOW('c', 1, 3, R | W) && DENY('c', 1, 3, M),
	   "read and write allowed by two rules: a read-write open passes");
	ok(build(revoke, ARRAY_SIZE(revoke)) && ALLOW('c', 10, 229, R | W) &&
	   ALLOW('c', 10, 200, R) && DENY('c', 10, 200, W) && DENY('c', 10, 200, R | W),
	   "a later deny of minor 200 (any major) takes writes back from c 10:*");
	ok(build(reallow, ARRAY_SIZE(reallow)) && ALLOW('c', 1, 3, R) && DENY('c', 1, 3, W) &&
	   DENY('c', 1, 5, W), "deny then allow read: read passes, write does not, others denied");
	ok(build(big, ARRAY_SIZE(big)) && ALLOW('c', 4000000000u, 0xfffffu, R) &&
	   DENY('c', 4000000000u - 1, 0xfffffu, R), "majors above INT32_MAX compare exactly");
	ok(build(NULL, 0) && DENY('c', 1, 11, W) && DENY('b', 8, 0, R | W | M),
	   "no rules: nothing allowed (runc's default deny)");
}

static void test_bad_rules(void)
{
	struct oci_device_rule r = { true, 'u', ANY, ANY, R };
	cleanup_free struct oci_device_rule *many = NULL;

	ok(!build(&r, 1), "type u refused");
	r = (struct oci_device_rule){ true, 'c', -2, ANY, R };
	ok(!build(&r, 1), "major -2 refused");
	r = (struct oci_device_rule){ true, 'c', 1, (int64_t)UINT32_MAX + 1, R };
	ok(!build(&r, 1), "minor above 32 bits refused");
	r = (struct oci_device_rule){ true, 'c', 1, 3, 8 };
	ok(!build(&r, 1), "unknown access bits refused");
	many = calloc(DEVCGROUP_MAX_RULES + 1, sizeof(*many));
	for (size_t i = 0; many && i <= DEVCGROUP_MAX_RULES; i++)
		many[i] = (struct oci_device_rule){ i % 2, 'c', (int64_t)i, ANY, R | W };
	ok(many && !build(many, DEVCGROUP_MAX_RULES + 1), "more than %d rules refused",
	   DEVCGROUP_MAX_RULES);
	ok(many && build(many, DEVCGROUP_MAX_RULES) && ALLOW('c', 1023, 0, R) &&
	   DENY('c', 1022, 0, W) && DENY('c', 5000, 0, W), "%d rules build and run (%zu insns)",
	   DEVCGROUP_MAX_RULES, prog_len);
}

int main(void)
{
	test_runc_default();
	test_last_match_wins();
	test_bad_rules();
	free(prog);
	return tap_done();
}
