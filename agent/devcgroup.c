#include "devcgroup.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

/* Registers of the program: the context, then what the prologue unpacks. */
enum {
	R_RET = BPF_REG_0,
	R_CTX = BPF_REG_1,
	R_TYPE = BPF_REG_2,	/* BPF_DEVCG_DEV_* */
	R_ACCESS = BPF_REG_3,	/* BPF_DEVCG_ACC_* bits not yet allowed */
	R_MAJOR = BPF_REG_4,
	R_MINOR = BPF_REG_5,
};

/* A rule's block is at most 8 instructions; prologue 6, epilogue 2. */
#define BLOCK_MAX 8
#define PROLOGUE_LEN 6

struct prog {
	struct bpf_insn *insns;
	size_t len;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	p->insns[p->len++] = (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm,
	};
}

static void emit_load_u32(struct prog *p, uint8_t dst, size_t field)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, dst, R_CTX, (int16_t)field, 0);
}

/* OCI's r/w/m bits to the kernel's, which are numbered differently. */
static int32_t bpf_access(unsigned access)
{
	return ((access & OCI_DEVICE_ACCESS_READ) ? BPF_DEVCG_ACC_READ : 0) |
	       ((access & OCI_DEVICE_ACCESS_WRITE) ? BPF_DEVCG_ACC_WRITE : 0) |
	       ((access & OCI_DEVICE_ACCESS_MKNOD) ? BPF_DEVCG_ACC_MKNOD : 0);
}

/* One rule: its checks jump to the next block when the device does not
 * match (their offsets patched once the block's length is known). */
static void emit_rule(struct prog *p, const struct oci_device_rule *r)
{
	size_t jumps[4], n_jumps = 0;
	int32_t access = bpf_access(r->access);

	/* JMP32: the context's fields are u32 and the immediates s32, so a
	 * number above INT32_MAX compares right only in 32 bits. */
	if (r->type != 'a') {
		jumps[n_jumps++] = p->len;
		emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R_TYPE, 0, 0,
		     r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
	}
	if (r->major != OCI_DEVICE_ANY) {
		jumps[n_jumps++] = p->len;
		emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R_MAJOR, 0, 0, (int32_t)(uint32_t)r->major);
	}
	if (r->minor != OCI_DEVICE_ANY) {
		jumps[n_jumps++] = p->len;
		emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R_MINOR, 0, 0, (int32_t)(uint32_t)r->minor);
	}
	if (r->allow) {
		/* these bits are decided; allow once none is left */
		emit(p, BPF_ALU64 | BPF_AND | BPF_K, R_ACCESS, 0, 0, ~access);
		jumps[n_jumps++] = p->len;
		emit(p, BPF_JMP | BPF_JNE | BPF_K, R_ACCESS, 0, 0, 0);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R_RET, 0, 0, 1);
	} else {
		/* a bit still undecided is denied here */
		emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R_RET, R_ACCESS, 0, 0);
		emit(p, BPF_ALU64 | BPF_AND | BPF_K, R_RET, 0, 0, access);
		jumps[n_jumps++] = p->len;
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, R_RET, 0, 0, 0);
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R_RET, 0, 0, 0);
	}
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (size_t i = 0; i < n_jumps; i++)
		p->insns[jumps[i]].off = (int16_t)(p->len - jumps[i] - 1);
}

int devcgroup_build(const struct oci_device_rule *rules, size_t n, struct bpf_insn **insns,
		    size_t *len, novm_error_t *err)
{
	struct prog p = { 0 };

	if (n > DEVCGROUP_MAX_RULES)
		return novm_error(err, 0, "devices cgroup: %zu rules, at most %d", n,
				  DEVCGROUP_MAX_RULES);
	for (size_t i = 0; i < n; i++) {
		const struct oci_device_rule *r = &rules[i];

		/* the parser's guarantees, checked again: the agent is the last
		 * line, and a wrong program is a silent hole */
		if (r->type == '\0' || !strchr("acb", r->type) || r->access > OCI_DEVICE_ACCESS_ALL ||
		    (r->major != OCI_DEVICE_ANY && (r->major < 0 || r->major > UINT32_MAX)) ||
		    (r->minor != OCI_DEVICE_ANY && (r->minor < 0 || r->minor > UINT32_MAX)))
			return novm_error(err, 0, "devices cgroup: rule %zu is invalid", i);
	}
	p.insns = calloc(PROLOGUE_LEN + n * BLOCK_MAX + 2, sizeof(*p.insns));
	if (!p.insns)
		return novm_error(err, ENOMEM, "devices cgroup program");

	emit_load_u32(&p, R_TYPE, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, R_ACCESS, R_TYPE, 0, 0);
	emit(&p, BPF_ALU64 | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
	emit(&p, BPF_ALU64 | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
	emit_load_u32(&p, R_MAJOR, offsetof(struct bpf_cgroup_dev_ctx, major));
	emit_load_u32(&p, R_MINOR, offsetof(struct bpf_cgroup_dev_ctx, minor));
	/* last match wins: the rules from the end, the first to decide returns */
	for (size_t i = n; i-- > 0;)
		emit_rule(&p, &rules[i]);
	/* a bit no rule decided is denied: runc's default (an allow-all rule
	 * first makes a deny list) */
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, R_RET, 0, 0, 0);
	emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	*insns = p.insns;
	*len = p.len;
	return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The verifier's last line: why the program was refused. */
static const char *last_line(char *log)
{
	size_t n = strlen(log);
	char *nl;

	while (n > 0 && log[n - 1] == '\n')
		log[--n] = '\0';
	nl = strrchr(log, '\n');
	return nl ? nl + 1 : log;
}

static int load(const struct bpf_insn *insns, size_t len, novm_error_t *err)
{
	static const char license[] = "Apache-2.0";	/* no GPL-only helpers used */
	union bpf_attr attr = { 0 };
	cleanup_free char *log = NULL;
	int fd, saved;

	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)len;
	attr.license = (uint64_t)(uintptr_t)license;
	fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	saved = errno;
	/* Again with the verifier's log, only now: a log that overflows its
	 * buffer fails a good program with ENOSPC. */
	log = calloc(1, 65536);
	if (log) {
		attr.log_level = 1;
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = 65536;
		fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
		if (fd >= 0)
			return fd;
	}
	return novm_error(err, saved, "devices cgroup: load the program%s%s", log && *log ? ": " : "",
			  log ? last_line(log) : "");
}

int devcgroup_apply(int cgroup_dir_fd, const struct oci_device_rule *rules, size_t n,
		    novm_error_t *err)
{
	cleanup_free struct bpf_insn *insns = NULL;
	cleanup_close int prog_fd = -1;
	union bpf_attr attr = { 0 };
	size_t len;

	if (devcgroup_build(rules, n, &insns, &len, err) < 0)
		return -1;
	prog_fd = load(insns, len, err);
	if (prog_fd < 0)
		return -1;
	attr.target_fd = (uint32_t)cgroup_dir_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return novm_error(err, errno, "devices cgroup: attach the program");
	return 0;
}

/* What runc appends to every container's rules (libcontainer's allowed
 * devices): mknod of any node, and the nodes every container has. */
static const struct oci_device_rule always_allowed[] = {
	{ true, 'c', OCI_DEVICE_ANY, OCI_DEVICE_ANY, OCI_DEVICE_ACCESS_MKNOD },
	{ true, 'b', OCI_DEVICE_ANY, OCI_DEVICE_ANY, OCI_DEVICE_ACCESS_MKNOD },
	{ true, 'c', 1, 3, OCI_DEVICE_ACCESS_ALL },		/* null */
	{ true, 'c', 1, 5, OCI_DEVICE_ACCESS_ALL },		/* zero */
	{ true, 'c', 1, 7, OCI_DEVICE_ACCESS_ALL },		/* full */
	{ true, 'c', 1, 8, OCI_DEVICE_ACCESS_ALL },		/* random */
	{ true, 'c', 1, 9, OCI_DEVICE_ACCESS_ALL },		/* urandom */
	{ true, 'c', 5, 0, OCI_DEVICE_ACCESS_ALL },		/* tty */
	{ true, 'c', 5, 2, OCI_DEVICE_ACCESS_ALL },		/* ptmx */
	{ true, 'c', 136, OCI_DEVICE_ANY, OCI_DEVICE_ACCESS_ALL },	/* pts */
};

int devcgroup_apply_spec(int cgroup_dir_fd, const struct oci_spec *spec, novm_error_t *err)
{
	const struct oci_linux *l = &spec->linux_;
	cleanup_free struct oci_device_rule *rules = NULL;
	size_t n = 0, cap;

	/* Always a program, as runc always has one: without rules of the
	 * spec's, the always-allowed devices are all there is. */
	cap = (spec->has_linux ? l->resources.n_devices + l->n_devices : 0) +
	      ARRAY_SIZE(always_allowed);
	rules = calloc(cap, sizeof(*rules));
	if (!rules)
		return novm_error(err, ENOMEM, "devices cgroup");
	for (size_t i = 0; spec->has_linux && i < l->resources.n_devices; i++)
		rules[n++] = l->resources.devices[i];
	/* The nodes linux.devices makes are the container's to use. */
	for (size_t i = 0; spec->has_linux && i < l->n_devices; i++) {
		const struct oci_device *d = &l->devices[i];

		if (d->type == 'c' || d->type == 'u' || d->type == 'b')
			rules[n++] = (struct oci_device_rule){ true, d->type == 'b' ? 'b' : 'c',
							       d->major, d->minor,
							       OCI_DEVICE_ACCESS_ALL };
	}
	for (size_t i = 0; i < ARRAY_SIZE(always_allowed); i++)
		rules[n++] = always_allowed[i];
	return devcgroup_apply(cgroup_dir_fd, rules, n, err);
}
