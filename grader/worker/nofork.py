"""A seccomp filter that stops a child from starting processes (Linux, x86_64 and aarch64).

After :func:`install`, ``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``, and ``execve``
fail with EPERM, and ``clone3`` with ENOSYS (so that the C library falls back to ``clone``,
which the filter can inspect). Threads still start: torch needs them. A fork bomb, a child
that outlives the worker and ``os.system`` all fail at their first system call.
"""
from __future__ import annotations

import ctypes
import errno
import platform
import struct

_ARCH = {  # machine -> (AUDIT_ARCH, syscall numbers)
    "x86_64": (0xC000003E, {"fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "execve": 59, "execveat": 322}),
    "aarch64": (0xC00000B7, {"clone": 220, "clone3": 435, "execve": 221, "execveat": 281}),
}
CLONE_THREAD = 0x00010000
_LD_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def available() -> bool:
    return platform.system() == "Linux" and platform.machine() in _ARCH


def _program() -> list[tuple[int, int, int, int]]:
    arch, numbers = _ARCH[platform.machine()]
    denied = [numbers[name] for name in ("fork", "vfork", "execve", "execveat") if name in numbers]
    # Layout: 0 ld arch; 1 arch?; 2 ld nr; denied...; clone3?; clone?; ALLOW; ld flags; jset; ALLOW; EPERM; ENOSYS
    n_denied = len(denied)
    allow = 3 + n_denied + 2
    flags, allow2, eperm, enosys = allow + 1, allow + 3, allow + 4, allow + 5  # jumps go forward only
    prog = [(_LD_ABS, 0, 0, 4), (_JEQ, 0, allow - 2, arch), (_LD_ABS, 0, 0, 0)]
    for number in denied:
        here = len(prog)
        prog.append((_JEQ, eperm - here - 1, 0, number))
    here = len(prog)
    prog.append((_JEQ, enosys - here - 1, 0, numbers["clone3"]))
    here = len(prog)
    prog.append((_JEQ, flags - here - 1, 0, numbers["clone"]))
    assert len(prog) == allow
    prog.append((_RET, 0, 0, _ALLOW))
    prog.append((_LD_ABS, 0, 0, 16))  # the low 32 bits of clone's first argument, its flags
    prog.append((_JSET, allow2 - (flags + 1) - 1, eperm - (flags + 1) - 1, CLONE_THREAD))
    assert len(prog) == allow2
    prog.append((_RET, 0, 0, _ALLOW))
    prog.append((_RET, 0, 0, _ERRNO | errno.EPERM))
    prog.append((_RET, 0, 0, _ERRNO | errno.ENOSYS))
    return prog


def install() -> None:
    """Install the filter for this process and every thread it starts from now on."""
    if not available():
        raise OSError(f"no seccomp filter for {platform.system()} on {platform.machine()}")
    program = _program()
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
