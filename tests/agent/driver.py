#!/usr/bin/env python3
"""Host-side test driver for the agent's container mode (agent/agent-loop.c).

Boots Debian's kernel under QEMU (TCG: no KVM needed) with the agent as
/init, a virtio-console as the agent channel (/dev/hvc0 in the guest) and a
busybox root served by virtiofsd, then speaks the frames of agent/proto.h
over the channel's socket: waits for READY, sends CONFIG, relays stdio and
checks the EXIT status.  Each case is one boot (~10-20 s); TAP output.

    tests/agent/driver.py [--agent agent/novm-init] [--only NAME] [--keep]

The AgentLink class is the protocol client on its own, for other drivers.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ---- agent/proto.h ----
HEADER = struct.Struct("<IHHI")  # len, type, reserved, session
MAX_PAYLOAD = 64 * 1024
READY, STDOUT, STDERR, EXIT, ERROR, STARTED, LOG, REPLY = 1, 2, 3, 4, 5, 6, 7, 8
CONFIG, START, STDIN, SIGNAL, RESIZE, EXEC, QUERY = 64, 65, 66, 67, 68, 69, 70
NAMES = {1: "READY", 2: "STDOUT", 3: "STDERR", 4: "EXIT", 5: "ERROR", 6: "STARTED",
         7: "LOG", 8: "REPLY"}


class AgentLink:
    """Frames over a connected stream socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, ftype, session=0, payload=b""):
        if isinstance(payload, str):
            payload = payload.encode()
        assert len(payload) <= MAX_PAYLOAD
        self.sock.sendall(HEADER.pack(len(payload), ftype, 0, session) + payload)

    def send_json(self, ftype, session, obj):
        self.send(ftype, session, json.dumps(obj).encode())

    def recv(self, deadline):
        """The next frame as (type, session, payload), or None at EOF."""
        while True:
            if len(self.buf) >= HEADER.size:
                length, ftype, _, session = HEADER.unpack_from(self.buf)
                if length > MAX_PAYLOAD:
                    raise RuntimeError(f"frame of {length} bytes")
                if len(self.buf) >= HEADER.size + length:
                    payload = self.buf[HEADER.size:HEADER.size + length]
                    self.buf = self.buf[HEADER.size + length:]
                    return ftype, session, payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame from the agent in time")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data


class Session:
    def __init__(self):
        self.stdout = b""
        self.stderr = b""
        self.errors = []
        self.started = None
        self.exit = None  # (status, signal)


class Result:
    def __init__(self):
        self.ready = None
        self.sessions = {}
        self.logs = []
        self.replies = []
        self.console = ""

    def s(self, sid=0):
        return self.sessions.setdefault(sid, Session())


# ---- the guest ----

# dependencies first (virtio needs virtio_ring)
MODULES = ["kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
           "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
           "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
           "kernel/drivers/virtio/virtio_pci.ko", "kernel/drivers/char/virtio_console.ko",
           "kernel/fs/fuse/fuse.ko", "kernel/fs/fuse/virtiofs.ko"]
BUSYBOX_APPLETS = ["sh", "echo", "cat", "id", "ls", "mkdir", "hostname", "grep", "touch",
                   "sleep", "tty", "stat", "head", "wc", "true", "false", "kill", "test"]


def build_initramfs(agent, modules_root, out):
    stage = tempfile.mkdtemp(prefix="novm-initrd-")
    try:
        for d in ["dev", "proc", "sys", "lib/modules", "run"]:
            os.makedirs(os.path.join(stage, d))
        os.mknod(os.path.join(stage, "dev/console"), 0o600 | 0o020000, os.makedev(5, 1))
        shutil.copy(agent, os.path.join(stage, "init"))
        names = []
        for m in MODULES:
            shutil.copy(os.path.join(modules_root, m), os.path.join(stage, "lib/modules"))
            names.append(os.path.basename(m))
        with open(os.path.join(stage, "lib/modules/order"), "w") as f:
            f.write("\n".join(names) + "\n")
        with open(out, "wb") as f:
            files = subprocess.run(["find", "."], cwd=stage, check=True,
                                   capture_output=True).stdout
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=stage, input=files,
                           stdout=f, check=True)
    finally:
        shutil.rmtree(stage)


def build_rootfs(path):
    os.makedirs(os.path.join(path, "bin"))
    for d in ["etc", "tmp", "proc", "sys", "dev", "root"]:
        os.makedirs(os.path.join(path, d), exist_ok=True)
    os.chmod(os.path.join(path, "tmp"), 0o1777)
    shutil.copy("/bin/busybox", os.path.join(path, "bin/busybox"))
    for a in BUSYBOX_APPLETS:
        os.symlink("busybox", os.path.join(path, "bin", a))
    with open(os.path.join(path, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")
    with open(os.path.join(path, "etc/noexec"), "w") as f:
        f.write("not a program\n")


class Guest:
    """One QEMU boot with the agent in container mode."""

    def __init__(self, work, kernel, initrd, shares, cmdline_extra=""):
        self.work = work
        self.procs = []
        self.console = os.path.join(work, "console.log")
        agent_sock = os.path.join(work, "agent.sock")
        for p in [agent_sock, self.console]:
            if os.path.exists(p):
                os.unlink(p)
        qemu = ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "1",
                "-nographic", "-nodefaults", "-no-reboot",
                "-serial", "file:" + self.console,
                "-kernel", kernel, "-initrd", initrd,
                "-append", "console=ttyS0 reboot=t panic=-1 novm.mode=container "
                           "novm.action=poweroff " + cmdline_extra,
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                "-numa", "node,memdev=mem",
                "-device", "virtio-serial-pci",
                "-chardev", f"socket,id=ch,path={agent_sock},server=on,wait=on",
                "-device", "virtconsole,chardev=ch"]
        for i, (tag, source) in enumerate(shares):
            sock = os.path.join(work, f"vfs{i}.sock")
            if os.path.exists(sock):
                os.unlink(sock)
            self.procs.append(subprocess.Popen(
                ["/usr/lib/qemu/virtiofsd", "--socket-path=" + sock, "-o",
                 "source=" + source, "-o", "cache=none", "-o", "log_level=err"],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"vfs{i}.log"), "w")))
            wait_for(sock)
            qemu += ["-chardev", f"socket,id=fs{i},path={sock}",
                     "-device", f"vhost-user-fs-pci,chardev=fs{i},tag={tag}"]
        self.qemu = subprocess.Popen(qemu, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(work, "qemu.log"), "w"),
                                     stderr=subprocess.STDOUT)
        self.procs.append(self.qemu)
        wait_for(agent_sock)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(agent_sock)
        self.link = AgentLink(sock)

    def console_text(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        self.link.sock.close()
        try:
            self.qemu.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def wait_for(path, timeout=10):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)


# ---- configs ----

def base_config(args, **process):
    """Close to `runc spec`: its mounts, masked and read-only paths."""
    proc = {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/", "noNewPrivileges": True}
    proc.update(process)
    return {
        "ociVersion": "1.2.1",
        "process": proc,
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "novm",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list",
                            "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


def run_case(guest, config, shares, stdin=None, start=True, actions=None, timeout=90):
    """Sends CONFIG and collects frames until session 0's EXIT."""
    res = Result()
    link = guest.link
    deadline = time.monotonic() + timeout
    frame = link.recv(deadline)
    if frame is None or frame[0] != READY:
        raise RuntimeError(f"expected READY, got {frame}")
    res.ready = frame[2].decode()
    msg = {"config": config, "shares": shares}
    if start:
        msg["start"] = True
    link.send_json(CONFIG, 0, msg)
    if not start:
        link.send(START, 0)
    if stdin is not None:
        # from a thread: the agent's output must be read meanwhile, or both
        # sides end up waiting on full buffers
        def feed():
            for off in range(0, len(stdin), 32768):
                link.send(STDIN, 0, stdin[off:off + 32768])
            link.send(STDIN, 0, b"")
        threading.Thread(target=feed, daemon=True).start()
    pending = list(actions or [])
    while True:
        frame = link.recv(deadline)
        if frame is None:
            break
        ftype, sid, payload = frame
        if ftype == STDOUT:
            res.s(sid).stdout += payload
        elif ftype == STDERR:
            res.s(sid).stderr += payload
        elif ftype == ERROR:
            res.s(sid).errors.append(payload.decode(errors="replace"))
        elif ftype == STARTED:
            res.s(sid).started = struct.unpack("<i", payload)[0]
        elif ftype == LOG:
            res.logs.append(payload.decode(errors="replace"))
        elif ftype == REPLY:
            res.replies.append((sid, payload.decode(errors="replace")))
        elif ftype == EXIT:
            res.s(sid).exit = struct.unpack("<ii", payload)
            if sid == 0:
                break
        # scripted steps: (predicate(res), action(link)) run once each
        while pending and pending[0][0](res):
            pending.pop(0)[1](link)
    return res


# ---- the cases ----

def case(name):
    def register(fn):
        CASES.append((name, fn))
        return fn
    return register


CASES = []


@case("echo")
def _(t):
    r = t.run(base_config(["echo", "hi"]))
    t.ok(r.s().exit == (0, 0), f"echo hi exits 0 (got {r.s().exit})")
    t.ok(r.s().stdout == b"hi\n", f"stdout is hi (got {r.s().stdout!r})")
    t.ok(r.s().started and r.s().started > 1, f"STARTED with a pid ({r.s().started})")
    t.ok(r.ready.startswith("6."), f"READY carries the kernel release ({r.ready})")
    t.ok("novm-init" not in r.s().stdout.decode(), "no agent chatter on stdout")


@case("exit-status")
def _(t):
    r = t.run(base_config(["sh", "-c", "echo out; echo err >&2; exit 7"]))
    t.ok(r.s().exit == (7, 0), f"exit 7 (got {r.s().exit})")
    t.ok(r.s().stdout == b"out\n" and r.s().stderr == b"err\n",
         f"stdout/stderr apart ({r.s().stdout!r}, {r.s().stderr!r})")


@case("killed")
def _(t):
    r = t.run(base_config(["sh", "-c", "kill -9 $$"]))
    t.ok(r.s().exit == (137, 9), f"kill -9 -> 137, signal 9 (got {r.s().exit})")


@case("stdin")
def _(t):
    r = t.run(base_config(["cat"]), stdin=b"hello\nworld\n")
    t.ok(r.s().stdout == b"hello\nworld\n", f"cat echoes stdin ({r.s().stdout!r})")
    t.ok(r.s().exit == (0, 0), f"cat exits 0 at EOF (got {r.s().exit})")


@case("bulk")
def _(t):
    data = bytes((i * 7 + i // 251) % 256 for i in range(600 * 1024))
    r = t.run(base_config(["sh", "-c", "cat; i=0; while [ $i -lt 3000 ]; do "
                                       "echo line-$i >&2; i=$((i+1)); done"]), stdin=data)
    t.ok(r.s().stdout == data, f"600 KiB of binary stdin comes back intact "
         f"({len(r.s().stdout)} bytes)")
    lines = r.s().stderr.decode().split("\n")
    t.ok(len(lines) == 3001 and lines[2999] == "line-2999", f"3000 stderr lines ({len(lines)})")
    t.ok(r.s().exit == (0, 0), f"exit 0 ({r.s().exit})")


@case("process-spec")
def _(t):
    script = ("id -u; id -g; id -G; ulimit -n; hostname; umask; pwd; echo HOME=$HOME; "
              "grep -E '^Cap(Eff|Prm|Bnd|Amb):' /proc/self/status; "
              "grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj")
    kill = "CAP_KILL"
    cfg = base_config(["sh", "-c", script],
                      user={"uid": 1000, "gid": 1000, "umask": 0o027, "additionalGids": [5, 7]},
                      rlimits=[{"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1234}],
                      capabilities={"bounding": [kill, "CAP_CHOWN"], "effective": [kill],
                                    "permitted": [kill], "inheritable": [kill],
                                    "ambient": [kill]},
                      cwd="/tmp/work", oomScoreAdj=300)
    cfg["hostname"] = "testhost"
    r = t.run(cfg)
    lines = r.s().stdout.decode().split("\n")
    t.ok(r.s().exit == (0, 0), f"exits 0 (got {r.s().exit}, {r.s().errors} {r.s().stderr!r})")
    want = ["1000", "1000", "1000 5 7", "1234", "testhost", "0027", "/tmp/work",
            "HOME=/home/user"]
    t.ok(lines[:8] == want, f"id/ulimit/hostname/umask/cwd/HOME {lines[:8]}")
    caps = {l.split(":")[0]: l.split(":")[1].strip() for l in lines[8:12] if ":" in l}
    t.ok(caps.get("CapEff") == "0000000000000020", f"CapEff is CAP_KILL only ({caps})")
    t.ok(caps.get("CapBnd") == "0000000000000021", "CapBnd is CAP_KILL|CAP_CHOWN")
    t.ok(caps.get("CapAmb") == "0000000000000020", "CapAmb is CAP_KILL")
    t.ok(any(l.replace("\t", " ") == "NoNewPrivs: 1" for l in lines), "NoNewPrivs: 1")
    t.ok("300" in lines, "oom_score_adj 300")


@case("root-caps-default")
def _(t):
    cfg = base_config(["sh", "-c", "id -u; grep CapEff /proc/self/status; "
                                   "cat /proc/kcore 2>&1 | wc -c; "
                                   "echo x > /proc/sys/kernel/domainname; echo rc=$?; "
                                   "cat /proc/sys/kernel/domainname; ls /proc/acpi | wc -l; "
                                   "stat -c '%t:%T %a %u' /dev/fuse; stat -c %F /dev/null; "
                                   "test -e /dev/console || echo no-console; ls /dev/pts"])
    cfg["linux"]["sysctl"] = {"kernel.domainname": "example.org"}
    cfg["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                "fileMode": 0o640, "uid": 7}]
    r = t.run(cfg)
    out = r.s().stdout.decode()
    lines = out.split("\n")
    t.ok(out.startswith("0\nCapEff:\t000001ffffffffff\n"),
         f"root with every capability when the config lists none ({out!r})")
    t.ok("rc=" in out and "rc=0" not in out, "/proc/sys read-only")
    t.ok(lines[2] == "0", "/proc/kcore masked (reads empty)")
    t.ok("example.org" in lines, "linux.sysctl written")
    t.ok(lines[lines.index("example.org") + 1] == "0", "masked directory /proc/acpi is empty")
    t.ok("a:e5 640 7" in lines, "linux.devices: /dev/fuse 10:229 0640 uid 7")
    t.ok("character special file" in lines and "no-console" in lines,
         "/dev/null is a node; no /dev/console without a terminal")
    t.ok(lines[-2] == "ptmx", f"a fresh devpts instance ({lines[-2]!r})")


@case("seccomp")
def _(t):
    cfg = base_config(["sh", "-c", "mkdir /tmp/x; echo rc=$?; echo alive"])
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "mkdirat", "no_such_syscall"],
                      "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    r = t.run(cfg)
    t.ok(b"rc=1" in r.s().stdout and b"alive" in r.s().stdout,
         f"mkdir fails, shell lives ({r.s().stdout!r})")
    t.ok(b"Operation not permitted" in r.s().stderr, f"EPERM ({r.s().stderr!r})")


@case("seccomp-before-user-switch")
def _(t):
    # noNewPrivileges false: the filter is loaded while still root.
    cfg = base_config(["sh", "-c", "mkdir /tmp/y; echo rc=$?; id -u"], noNewPrivileges=False,
                      user={"uid": 1000, "gid": 1000})
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    r = t.run(cfg)
    t.ok(r.s().stdout == b"rc=1\n1000\n", f"filter active for uid 1000 ({r.s().stdout!r})")


@case("not-found")
def _(t):
    r = t.run(base_config(["nonexistent-prog"]))
    t.ok(r.s().exit == (127, 0), f"exit 127 (got {r.s().exit})")
    t.ok(r.s().errors == ['exec: "nonexistent-prog": executable file not found in $PATH'],
         f"runc's message ({r.s().errors})")
    r2 = t.run(base_config(["/etc/noexec"]))
    t.ok(r2.s().exit == (126, 0), f"not executable -> 126 (got {r2.s().exit}, {r2.s().errors})")


@case("terminal")
def _(t):
    cfg = base_config(["sh", "-c", "tty; stty size; read x; stty size; echo got-$x"],
                      terminal=True, consoleSize={"height": 30, "width": 100})
    steps = [(lambda r: b"30 100\r\n" in r.s().stdout,
              lambda link: (link.send(RESIZE, 0, struct.pack("<HH", 40, 120)),
                            link.send(STDIN, 0, b"abc\n")))]
    r = t.run(cfg, actions=steps)
    out = r.s().stdout.decode()
    t.ok(r.s().exit == (0, 0), f"exits 0 ({r.s().exit}, {r.s().errors})")
    t.ok(out.startswith("/dev/pts/0\r\n"), f"a pty as stdio ({out!r})")
    t.ok("30 100\r\n" in out, "consoleSize applied")
    t.ok("40 120\r\n" in out and out.endswith("got-abc\r\n"), "RESIZE applied, input echoed")


@case("setup-failure")
def _(t):
    cfg = base_config(["true"])
    cfg["mounts"] += [{"destination": "/x", "type": "bind", "source": "/nowhere"},
                      {"destination": "/y", "type": "nosuchfs", "source": "none"}]
    r = t.run(cfg)
    t.ok(any("no share for the bind mount of `/nowhere`" in l for l in r.logs),
         f"an unshared bind mount is skipped with a LOG ({r.logs})")
    t.ok(r.s().exit == (1, 0) and len(r.s().errors) == 1 and
         "mount nosuchfs on `/y`" in r.s().errors[0],
         f"a failing mount: ERROR naming it, EXIT 1 ({r.s().errors}, {r.s().exit})")


@case("start-exec-query")
def _(t):
    proc = {"args": ["sh", "-c", "echo from-exec; id -u; exit 3"], "cwd": "/",
            "user": {"uid": 1000, "gid": 1000},
            "env": ["PATH=/bin"]}
    bad = {"args": ["nonexistent"], "cwd": "/", "env": ["PATH=/bin"]}
    tty = {"args": ["tty"], "cwd": "/", "env": ["PATH=/bin"], "terminal": True}
    steps = [
        (lambda r: r.s(0).started is not None,
         lambda link: (link.send_json(EXEC, 7, proc), link.send_json(EXEC, 8, bad),
                       link.send(QUERY, 9, b"ps"), link.send(QUERY, 10, b"stats"),
                       link.send(QUERY, 11, b"bogus"), link.send_json(EXEC, 12, tty))),
        (lambda r: r.s(7).exit is not None and len(r.replies) == 3 and r.s(12).exit,
         lambda link: link.send(STDIN, 0, b"go\n")),
    ]
    r = t.run(base_config(["sh", "-c", "read x; echo init-got-$x"]), start=False,
              actions=steps)
    t.ok(r.s(7).stdout == b"from-exec\n1000\n" and r.s(7).exit == (3, 0),
         f"exec session 7 ({r.s(7).stdout!r}, {r.s(7).exit})")
    t.ok(r.s(8).exit == (127, 0) and r.s(8).errors, f"exec 8 not found ({r.s(8).errors})")
    t.ok(r.s(12).stdout.startswith(b"/dev/pts/") and r.s(12).exit == (0, 0),
         f"exec with its own terminal ({r.s(12).stdout!r})")
    replies = dict(r.replies)
    ps = json.loads(replies.get(9, "[]"))
    t.ok(any(p.get("pid") == 1 for p in ps) and any("read x" in p.get("cmd", "") for p in ps),
         f"ps lists PID 1 and the init ({replies.get(9, '')[:200]})")
    stats = json.loads(replies.get(10, "{}"))
    t.ok(stats.get("memory", {}).get("total", 0) > 100 << 20 and
         stats.get("cpu", {}).get("usage", 0) > 0, f"stats ({stats})")
    t.ok("error" in json.loads(replies.get(11, "{}")), "unknown query -> error object")
    t.ok(r.s(0).stdout == b"init-got-go\n" and r.s(0).exit == (0, 0),
         f"START then init reads stdin ({r.s(0).stdout!r})")


@case("signal")
def _(t):
    steps = [(lambda r: r.s(0).started is not None,
              lambda link: link.send(SIGNAL, 0, struct.pack("<I", 15)))]
    r = t.run(base_config(["sleep", "100"]), actions=steps)
    t.ok(r.s().exit == (143, 15), f"SIGTERM -> 143 ({r.s().exit})")


@case("shares-readonly-root")
def _(t):
    cfg = base_config(["sh", "-c", "cat /data/hello; touch /data/x; echo rc1=$?; "
                                   "cat /etc/one; touch /newfile; echo rc2=$?; "
                                   "echo tmp > /dev/shm/ok && cat /dev/shm/ok"])
    cfg["root"]["readonly"] = True
    cfg["process"]["cwd"] = "/not/there/yet"  # made before the root turns read-only
    cfg["mounts"].append({"destination": "/data", "type": "bind", "source": "/host/data",
                          "options": ["rbind", "ro"]})
    cfg["mounts"].append({"destination": "/etc/one", "type": "bind", "source": "/host/one",
                          "options": ["bind"]})
    r = t.run(cfg, extra_shares=[
        ({"tag": "m0", "destination": "/data", "readonly": True}, "data"),
        ({"tag": "m1", "destination": "/etc/one", "source": "/host/one", "path": "one"},
         "onedir")])
    out = r.s().stdout.decode()
    t.ok(out.startswith("hello from the host\nrc1=1\n"), f"ro share at /data ({out!r})")
    t.ok("one file\nrc2=1\n" in out, f"file share via path; root read-only ({out!r})")
    t.ok(out.endswith("tmp\n"), "tmpfs mounts stay writable")


class Runner:
    def __init__(self, opts, work):
        self.opts = opts
        self.work = work
        self.n = 0
        self.failed = 0
        self.initrd = os.path.join(work, "initrd.cpio")
        build_initramfs(opts.agent, opts.modules, self.initrd)
        self.rootfs = os.path.join(work, "rootfs")
        build_rootfs(self.rootfs)
        data = os.path.join(work, "data")
        os.makedirs(data)
        with open(os.path.join(data, "hello"), "w") as f:
            f.write("hello from the host\n")
        onedir = os.path.join(work, "onedir")
        os.makedirs(onedir)
        with open(os.path.join(onedir, "one"), "w") as f:
            f.write("one file\n")

    def ok(self, cond, desc):
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {self.name}: {desc}", flush=True)
        if not cond:
            self.failed += 1

    def run(self, config, extra_shares=(), **kw):
        # as novm-runc sends it: the root share carries root.readonly
        shares = [{"tag": "rootfs", "destination": "/",
                   "readonly": config["root"].get("readonly", False)}]
        shares += [s for s, _ in extra_shares]
        sources = [("rootfs", self.rootfs)] + [
            (s["tag"], os.path.join(self.work, d)) for s, d in extra_shares]
        guest = Guest(self.work, self.opts.kernel, self.initrd, sources)
        try:
            res = run_case(guest, config, shares, **kw)
        except Exception as e:
            print(f"# {self.name}: {e}\n# console:\n" +
                  "\n".join("#   " + l for l in guest.console_text().splitlines()[-40:]))
            raise
        finally:
            guest.stop()
        res.console = guest.console_text()
        for l in res.logs:
            print(f"#   agent log: {l}")
        if self.opts.verbose:
            print("\n".join("#   " + l for l in res.console.splitlines()))
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--agent", default=os.path.join(top, "agent/novm-init"))
    ap.add_argument("--kernel", default="/var/cache/nested-run/x/boot/vmlinuz-6.1.0-56-amd64")
    ap.add_argument("--modules",
                    default="/var/cache/nested-run/x/lib/modules/6.1.0-56-amd64")
    ap.add_argument("--only", action="append", help="run only these cases")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print guest consoles")
    opts = ap.parse_args()
    for need in [opts.agent, opts.kernel, opts.modules, "/bin/busybox",
                 "/usr/lib/qemu/virtiofsd"]:
        if not os.path.exists(need):
            print(f"1..0 # SKIP {need} missing")
            return 77
    if os.getuid() != 0:
        print("1..0 # SKIP needs root (virtiofsd, mknod)")
        return 77
    work = tempfile.mkdtemp(prefix="novm-agent-test-")
    runner = Runner(opts, work)
    try:
        for name, fn in CASES:
            if opts.only and name not in opts.only:
                continue
            runner.name = name
            try:
                fn(runner)
            except Exception as e:  # a broken boot fails the case, not the run
                runner.ok(False, f"crashed: {e!r}")
    finally:
        if opts.keep:
            print(f"# work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"1..{runner.n}")
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
