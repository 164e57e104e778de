"""The README's REPL session runs as written (a doctest), and its commands exist."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_repl_session_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the session loads examples/ by relative path
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    sessions = [b for b in blocks if ">>>" in b]
    assert sessions, "the README has no REPL session"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, text in enumerate(sessions):
        test = parser.get_doctest(text, {}, f"README.md session {i}", "README.md", 0)
        result = runner.run(test)
        assert result.failed == 0, f"README session {i}: {result.failed} failed examples"
    assert runner.summarize(verbose=False).attempted >= 8


def test_readme_names_the_commands_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in README and "python -m pytest" in ci
    assert "\nmypy\n" in ci and "mypy" in README
