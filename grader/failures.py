"""Structured failures: what a failing check raises and what the scoreboard reads.

A check fails by raising :class:`CheckFailure`, an ``AssertionError`` that carries its
parts as fields: the property's summary in one sentence, the values shown (rendered when
the failure is raised, so a later in-place change cannot alter them), and the likely
:class:`Mistake` when, and only when, the check reproduced that mistake on the same input.
The hypothesis helper in ``tests.common.hypo`` adds the drawn input as ``example``.
"""
from __future__ import annotations

import linecache
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

_MISTAKES: dict[str, "Mistake"] = {}


@dataclass(frozen=True)
class Mistake:
    """A known mistake: an id that kept wrong implementations name in their docstring
    (``Mistake: <id>``), and the advice a student gets when a check reproduces it."""

    id: str
    advice: str

    def __post_init__(self):
        known = _MISTAKES.setdefault(self.id, self)
        if known.advice != self.advice:
            raise ValueError(f"two different mistakes share the id {self.id!r}")


def known_mistakes() -> dict[str, Mistake]:
    """Every mistake defined so far (by the check modules imported in this process)."""
    return dict(_MISTAKES)


class CheckFailure(AssertionError):
    """A check's failure in plain words: ``summary``, ``shown`` (name -> rendered value),
    ``mistake`` (a reproduced :class:`Mistake` or None) and ``example`` (name -> rendered
    value of the hypothesis input, or None).

    ``mistake`` may be given as a function that looks for the mistake: it is called once,
    when the failure is reported, and not for each failing example hypothesis tries while
    it shrinks the input (a reproduction may rerun the code under test on several inputs).
    """

    def __init__(self, summary: str, *, shown: dict | None = None, mistake=None):
        self.summary = summary
        # Copied now (a later in-place change cannot alter them), rendered when reported.
        self._shown = {name: snapshot(value) for name, value in (shown or {}).items()}
        self._rendered: dict[str, str] | None = None
        self._mistake = mistake
        self._resolved = not callable(mistake) or isinstance(mistake, Mistake)
        self._example = None
        if self._resolved:
            self._check(mistake)
        super().__init__(summary)

    @property
    def shown(self) -> dict[str, str]:
        if self._rendered is None:
            self._rendered = {name: show(value) for name, value in self._shown.items()}
        return self._rendered

    @property
    def mistake(self) -> Mistake | None:
        if not self._resolved:
            self._resolved = True
            try:
                found = self._mistake()
            except Exception:  # noqa: BLE001 - a diagnosis that breaks names no mistake
                found = None
            self._mistake = self._check(found)
        return self._mistake

    def name_no_mistake(self, why: str) -> None:
        """Name no likely mistake after all, and say why (under the summary)."""
        self._mistake, self._resolved = None, True
        self.summary = f"{self.summary}\n{why}"
        self.args = (self.summary,)

    @staticmethod
    def _check(mistake):
        if mistake is not None and not isinstance(mistake, Mistake):
            raise TypeError(f"mistake must be a Mistake, got {mistake!r}")
        return mistake

    @property
    def example(self) -> dict[str, str] | None:
        return self._example() if callable(self._example) else self._example

    @example.setter
    def example(self, value) -> None:
        self._example = value

    def text(self) -> str:
        lines = [self.summary]
        lines += [f"  {name}: {value}" for name, value in self.shown.items()]
        if self.mistake is not None:
            lines.append(f"  Likely mistake: {self.mistake.advice}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class _TensorCopy:
    """A tensor's values copied to the CPU, and where the tensor was (shape, dtype, device)."""

    values: torch.Tensor | None
    where: str


def snapshot(value):
    """A copy of a value to show later: tensors (also inside lists and tuples) are copied."""
    if isinstance(value, torch.Tensor):
        where = f"shape {tuple(value.shape)}, {value.dtype}, {value.device}"
        if value.device.type == "meta":
            return _TensorCopy(None, where)
        try:
            return _TensorCopy(value.detach().cpu().as_subclass(torch.Tensor).clone(), where)
        except Exception:  # noqa: BLE001 - a tensor we cannot read back is shown by where it was
            return _TensorCopy(None, where)
    if isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
        return type(value)(snapshot(v) for v in value) if not hasattr(value, "_fields") else value
    return value


def show(value) -> str:
    """A short rendering in which values that differ print differently (shortest unique
    digits), with a tensor's shape, dtype and device."""
    if isinstance(value, _TensorCopy):
        return _show_values(value.values, value.where)
    if isinstance(value, torch.Tensor):
        return _show_tensor(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (torch.Tensor, _TensorCopy)) for v in value):
        inner = ", ".join(show(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)


def _show_tensor(value: torch.Tensor) -> str:
    copy = snapshot(value)
    return _show_values(copy.values, copy.where)


def _show_values(plain: torch.Tensor | None, where: str) -> str:
    if plain is None:
        return f"<tensor of {where}>"
    try:
        if plain.dtype == torch.bfloat16:
            plain = plain.float()  # exact: numpy has no bfloat16
        body = np.array2string(plain.numpy(), separator=", ", floatmode="unique", threshold=48, edgeitems=3,
                               max_line_width=96)
    except Exception:  # noqa: BLE001 - a tensor we cannot read back still gets a line
        return f"<tensor of {where}>"
    return f"tensor({body.replace(chr(10), chr(10) + '    ')})  # {where}"


def is_stub(error: BaseException) -> bool:
    """Whether ``error`` is a stub's ``NotImplementedError``: raised by a ``raise`` statement
    of the code under test, not by torch, which raises it too (for instance from C++ when
    code reads the data of a 'meta' tensor). An error from the worker says which it was."""
    if type(error) is not NotImplementedError:
        return False
    if hasattr(error, "_d2l_stub"):
        return error._d2l_stub
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return True
    filename = tb.tb_frame.f_code.co_filename
    line = linecache.getline(filename, tb.tb_lineno).strip()
    return line.startswith("raise") and not _in_library(filename)


_LIBRARIES = tuple(str(Path(module.__file__).resolve().parent) for module in (torch, np))


def _in_library(filename: str) -> bool:
    return str(Path(filename).resolve()).startswith(_LIBRARIES)


class ForbiddenCall(CheckFailure):
    """The code uses a library call its exercise must not use (grader/catalog.py: ``forbidden``)."""
