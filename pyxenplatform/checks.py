"""Type and range checks for the rules, and a per-object memo of their outcome.

The library API takes the model's dataclasses from any caller, so a rule may
not assume a field has the type its annotation says: ``CState(type=1.0)``
compares equal to 1, and ``CxFlags(has_cst=2)`` is truthy but packs as 0 into
a one-bit field.  Every field is therefore checked as the file loaders check
it (an ``int`` that is not a ``bool``, a ``bool`` that is a ``bool``, a
``tuple`` of the right dataclass), before any rule compares it.

Once an object passed every rule, the outcome (its warnings) is remembered
*on the object*: the model's dataclasses are frozen and, once their types
are checked, hold only ints, bools and tuples of other checked frozen
objects, so the same object can never hold different data later.  The memo
lives and dies with the object: nothing grows with the number of tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .errors import ValidationError

_T = TypeVar("_T")

def fit(path: str, value: object, limit: int, what: str, minimum: int = 0) -> None:
    """``value`` is an ``int`` (not a ``bool``) in ``minimum..limit``."""
    if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValidationError(path, f"must be an integer, not {type(value).__name__}")
    if not minimum <= value <= limit:
        raise ValidationError(path, f"{value} does not fit {what} ({minimum}..{limit:#x})")


def boolean(path: str, value: object) -> None:
    """``value`` is ``True`` or ``False`` (Xen's flags are one bit: 2 would pack as 0)."""
    if not isinstance(value, bool):
        raise ValidationError(path, f"must be true or false, not {type(value).__name__} "
                              f"{value!r}")


def instance(path: str, value: object, cls: type[_T]) -> _T:
    """``value`` is a ``cls`` (a model dataclass), else a ValidationError."""
    if not isinstance(value, cls):
        raise ValidationError(path, f"must be a {cls.__name__}, not {type(value).__name__}")
    return value


def items(path: str, value: object, limit: int | None = None, rule: str = "") -> tuple[object, ...]:
    """``value`` is a tuple of at most ``limit`` entries (``rule`` says why).

    The entries are not looked at here: the caller checks each in its own
    loop, which stays bounded by ``limit`` (or by a rule that stops it).
    """
    if not isinstance(value, tuple):
        raise ValidationError(path, f"must be a tuple, not {type(value).__name__}")
    if limit is not None and len(value) > limit:
        raise ValidationError(path, f"{len(value)} entries: at most {limit} ({rule})")
    return value


def memo(obj: object, key: str) -> object:
    """What :func:`remember` stored on ``obj`` under ``key``, else ``None``."""
    return getattr(obj, key, None)


def remember(obj: object, key: str, value: _T) -> _T:
    """Store ``value`` on the frozen ``obj`` as attribute ``key``; returns ``value``.

    ``key`` starts with ``_pyxenplatform_``: not a dataclass field, so it takes
    no part in ==, hash or repr.
    """
    try:
        object.__setattr__(obj, key, value)
    except AttributeError:  # __slots__: no room for a memo, so no memo
        pass
    return value
