"""A seccomp filter that confines a child to its own process (Linux, x86_64 and aarch64).

After :func:`install`:

- ``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``, ``execve`` and ``execveat`` fail
  with EPERM, and ``clone3`` with ENOSYS (so that the C library falls back to ``clone``, which
  the filter can inspect). Threads still start: torch needs them. A fork bomb, a child that
  outlives the worker and ``os.system`` all fail at their first system call.
- Signals reach this process only: ``kill`` to its own pid or process group, ``tgkill`` and
  the ``sigqueueinfo`` calls within its own thread group; ``tkill``, ``pidfd_send_signal``,
  ``ptrace``, ``process_vm_readv``/``writev`` and ``pidfd_getfd`` fail with EPERM. The
  zygote serves several checkers at once, so a child that kills its parent or a sibling
  would otherwise end other exercises' workers.
- A system call of another architecture (the 32-bit ABI on x86_64) fails with EPERM: it
  would pass by every rule above.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

_COMMON = {"pidfd_send_signal": 424, "pidfd_getfd": 438, "clone3": 435}
_ARCH = {  # machine -> (AUDIT_ARCH, syscall numbers)
    "x86_64": (0xC000003E, {"fork": 57, "vfork": 58, "clone": 56, "execve": 59, "execveat": 322, "kill": 62,
                            "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
                            "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, **_COMMON}),
    "aarch64": (0xC00000B7, {"clone": 220, "execve": 221, "execveat": 281, "kill": 129, "tkill": 130,
                             "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "ptrace": 117,
                             "process_vm_readv": 270, "process_vm_writev": 271, **_COMMON}),
}
DENIED = ("fork", "vfork", "execve", "execveat", "tkill", "pidfd_send_signal", "ptrace", "process_vm_readv",
          "process_vm_writev", "pidfd_getfd")
OWN_THREAD_GROUP = ("tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # their first argument is a pid
CLONE_THREAD = 0x00010000
_LD_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_ARCH_AT, _NR_AT, _ARG0_AT = 4, 0, 16  # offsets in struct seccomp_data (the low half of args[0])
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def available() -> bool:
    return platform.system() == "Linux" and platform.machine() in _ARCH


class _Program:
    """Classic BPF with named jump targets, resolved once every label is placed (BPF jumps
    forward only, by at most 255 instructions)."""

    def __init__(self):
        self.code: list[tuple] = []
        self.labels: dict[str, int] = {}

    def load(self, offset: int) -> None:
        self.code.append((_LD_ABS, None, None, offset))

    def jump_if(self, op: int, value: int, yes: str | None, no: str | None = None) -> None:
        self.code.append((op, yes, no, value))  # None: fall through to the next instruction

    def ret(self, value: int) -> None:
        self.code.append((_RET, None, None, value))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> list[tuple[int, int, int, int]]:
        resolved = []
        for here, (code, yes, no, k) in enumerate(self.code):
            offsets = [0 if target is None else self.labels[target] - here - 1 for target in (yes, no)]
            if not all(0 <= offset <= 255 for offset in offsets):
                raise ValueError(f"seccomp jump out of range at instruction {here}")
            resolved.append((code, offsets[0], offsets[1], k))
        return resolved


def _program(own_pid: int) -> list[tuple[int, int, int, int]]:
    arch, numbers = _ARCH[platform.machine()]
    p = _Program()
    p.load(_ARCH_AT)
    p.jump_if(_JEQ, arch, None, "eperm")
    p.load(_NR_AT)
    for name in DENIED:
        if name in numbers:
            p.jump_if(_JEQ, numbers[name], "eperm")
    p.jump_if(_JEQ, numbers["clone3"], "enosys")
    p.jump_if(_JEQ, numbers["clone"], "clone")
    p.jump_if(_JEQ, numbers["kill"], "kill")
    for name in OWN_THREAD_GROUP:
        p.jump_if(_JEQ, numbers[name], "own thread group")
    p.ret(_ALLOW)
    p.label("clone")
    p.load(_ARG0_AT)  # clone's flags
    p.jump_if(_JSET, CLONE_THREAD, "allow", "eperm")
    p.label("kill")
    p.load(_ARG0_AT)  # kill's pid: 0 and -pid are this process's own group (it leads it)
    for pid in (0, own_pid, -own_pid & 0xFFFFFFFF):
        p.jump_if(_JEQ, pid, "allow")
    p.ret(_ERRNO | errno.EPERM)
    p.label("own thread group")
    p.load(_ARG0_AT)
    p.jump_if(_JEQ, own_pid, "allow", "eperm")
    p.label("allow")
    p.ret(_ALLOW)
    p.label("eperm")
    p.ret(_ERRNO | errno.EPERM)
    p.label("enosys")
    p.ret(_ERRNO | errno.ENOSYS)
    return p.assemble()


def install() -> None:
    """Install the filter for this process and every thread it starts from now on."""
    if not available():
        raise OSError(f"no seccomp filter for {platform.system()} on {platform.machine()}")
    program = _program(os.getpid())
    raw = b"".join(struct.pack("HBBI", code, jt, jf, k) for code, jt, jf, k in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
