"""Reading a table file safely: bounded, regular files only, strict parsers.

A table comes from users, scripts or firmware tools, so nothing in it may
make the reader hang, grow without bound or fail with anything but a
:class:`~pyxenplatform.errors.ValidationError`:

- only a regular file is read (not a FIFO, device, socket or directory: a
  ``.json`` symlink to ``/dev/zero`` is refused before one byte is read), and
  at most :data:`MAX_TABLE_BYTES`;
- JSON refuses duplicate keys (as TOML does; JSON's parser would keep the
  last silently), ``NaN``/``Infinity``, and integers longer than
  :data:`MAX_INT_DIGITS` digits (Python refuses 4,301+ digits with a
  ``ValueError`` deep in the parser);
- nesting is bounded: the parsers' own recursion is caught, and what parses
  is walked (without recursion) to :data:`MAX_DEPTH` levels, well above the
  schema's deepest path (8 levels), so nothing later recurses deeply.

Every message names the file; text echoed from the file goes through
:func:`show_key` / :func:`show_value`, so a newline or escape sequence in a
key cannot split the one-line error.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import ValidationError

MAX_TABLE_BYTES = 16 * 1024 * 1024  # 16 MiB: ~70,000 explicit entries, far above 4,096 CPUs
MAX_DEPTH = 32
MAX_INT_DIGITS = 40  # u64 needs 20 decimal digits; room for a sign and separators

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def show_key(key: object) -> str:
    """A key as it appears in a path: bare when plain, else quoted and escaped."""
    text = str(key)
    if _PLAIN_KEY.fullmatch(text):
        return text
    return show_value(text)


def show_value(value: object, limit: int = 60) -> str:
    """``repr`` of a value from a file, escaped to printable ASCII and cut at ``limit``."""
    text = ascii(value) if isinstance(value, str) else ascii(_shallow(value))
    return text if len(text) <= limit else text[:limit] + "...(cut)"


def _shallow(value: object) -> object:
    """Containers shown by kind and size: their repr could be deep or huge."""
    if isinstance(value, dict):
        return f"<a table of {len(value)} keys>"
    if isinstance(value, list):
        return f"<a list of {len(value)} items>"
    return value


def read_table_bytes(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most MAX_TABLE_BYTES."""
    source = str(path)
    try:
        _refuse_special(os.stat(path).st_mode, source)  # before open: a FIFO's open blocks
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ValidationError("", f"cannot read: {exc.strerror}", source=source) from None
    try:
        st = os.fstat(fd)  # the file opened, not the one stat() saw (it may have been swapped)
        _refuse_special(st.st_mode, source)
        if st.st_size > MAX_TABLE_BYTES:
            raise _too_big(st.st_size, source)
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_TABLE_BYTES + 1)
    except OSError as exc:
        raise ValidationError("", f"cannot read: {exc.strerror}", source=source) from None
    finally:
        os.close(fd)
    if len(data) > MAX_TABLE_BYTES:  # grew while we read
        raise _too_big(len(data), source)
    return data


def _refuse_special(mode: int, source: str) -> None:
    if stat.S_ISREG(mode):
        return
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket")]
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    raise ValidationError("", f"{kind}, not a regular file: give the path of a .json or "
                          ".toml table", source=source)


def _too_big(size: int, source: str) -> ValidationError:
    return ValidationError("", f"{size} bytes: larger than the {MAX_TABLE_BYTES} bytes a "
                           "table may have", source=source)


def parse_json(raw: bytes, source: str) -> object:
    import json  # here: the parsers cost import time

    try:
        return json.loads(raw, object_pairs_hook=_unique_keys, parse_int=_bounded_int,
                          parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep(source) from None
    except ValidationError as exc:
        raise exc.in_source(source) from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("", f"not valid JSON: {exc}", source=source) from None


def parse_toml(raw: bytes, source: str) -> object:
    import tomllib

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except RecursionError:
        raise _too_deep(source) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError("", f"not valid TOML: {exc}", source=source) from None
    except ValueError as exc:  # int(): more digits than Python converts
        why = "an integer with too many digits" if "digits" in str(exc) else str(exc)
        raise ValidationError("", f"not valid TOML: {why}", source=source) from None


def _too_deep(source: str) -> ValidationError:
    return ValidationError("", f"nested more than {MAX_DEPTH} levels deep (a table has "
                           "at most 8)", source=source)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValidationError("", f"duplicate key {show_value(key)} in one object (JSON "
                                  "would keep only the last; TOML refuses it too)")
        result[key] = value
    return result


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValidationError("", f"an integer of {len(text)} digits: no field takes more "
                              f"than 64 bits ({MAX_INT_DIGITS} digits at most)")
    return int(text)


def _no_constant(name: str) -> object:
    raise ValidationError("", f"{name} is not a number a table can hold")


def check_depth(data: object, source: str) -> None:
    """Refuse anything nested deeper than MAX_DEPTH, naming the path; no recursion."""
    # Paths are built only for the error: each entry links to its parent's.
    Link = tuple[object, object] | None
    stack: list[tuple[object, Link, int]] = [(data, None, 0)]
    while stack:
        value, link, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValidationError(_render(link), f"nested more than {MAX_DEPTH} levels deep "
                                  "(a table has at most 8)", source=source)
        if isinstance(value, dict):
            stack += [(v, (link, k), depth + 1) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, (link, i), depth + 1) for i, v in enumerate(value)]


def _render(link: tuple[object, object] | None) -> str:
    parts: list[str] = []
    while link is not None:
        parent, key = link
        parts.append(f"[{key}]" if isinstance(key, int) else f".{show_key(key)}")
        link = parent  # type: ignore[assignment]  # a recursive tuple mypy cannot spell
    return "".join(reversed(parts)).lstrip(".")
