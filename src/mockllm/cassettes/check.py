"""``mockllm cassettes check DIR``: does a cassette folder hold what a replay needs?

Every ``.yml`` file must parse and follow the cassette schema; two files may not hold the
same request at the same index in one folder (a replay would use only one); any other
file (but those whose name starts with ``.``, such as ``.gitkeep``), and a file deeper
than one folder per test, is reported as not a cassette.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .format import scan


@dataclass(slots=True)
class Report:
    """What :func:`check` found: how many cassettes are valid, and each problem."""

    folder: Path
    cassettes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """Each problem as ``DIR/file: message``, then a summary line."""
        out = [f"{self.folder / problem}" for problem in self.problems]
        if self.ok:
            out.append(f"{self.folder}: {self.cassettes} cassettes, valid")
        else:
            out.append(
                f"{self.folder}: {self.cassettes} valid cassettes, {len(self.problems)} problem(s)"
            )
        return out


def check(folder: Path) -> Report:
    """Check the cassette folder ``folder`` (see the module's docstring)."""
    report = Report(folder)
    if not folder.is_dir():
        report.problems.append("no such folder")
        return report
    found = scan(folder)
    report.cassettes = len(found.cassettes)
    report.problems = found.problems
    return report


def run(folder: str) -> int:
    """The command: the report on stdout; exit status 1 when there are problems."""
    report = check(Path(folder))
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1
