"""Goal lines (PASS, FAIL, or SKIP when not measured), gathered from every part into one list;
the summary at the end and the exit status."""
from __future__ import annotations

from typing import NamedTuple

# Exit status of bench.py (also in --help and Benchmarks/README.md).
EXIT_OK = 0  # everything ran, every goal measured passed
EXIT_BROKEN = 1  # something broke: a build, a server crash or stall, a load-client error (whatever the goals)
EXIT_GOAL_FAILED = 3  # everything ran, at least one goal FAILed
EXIT_INTERRUPTED = 130

PART_PREFIX = {"echo": "", "HTTP/2": "HTTP/2 ", "gRPC": "gRPC ", "proxy": "proxy ", "TLS": "TLS ", "one port": "one-port "}


class Goal(NamedTuple):
    part: str  # "echo", "HTTP/2", "gRPC", "proxy", "TLS", "one port"
    ok: bool | None  # None: not measured (SKIP)
    text: str

    @property
    def status(self) -> str:
        return status(self.ok)

    def line(self) -> str:
        """The console line: "PASS: HTTP/2 S1 Loop ..." (the echo part's have no prefix)."""
        return f"{self.status}: {PART_PREFIX.get(self.part, self.part + ' ')}{self.text}"


def status(ok: bool | None) -> str:
    return "PASS" if ok else "FAIL" if ok is False else "SKIP"


def markdown(goals: list[Goal]) -> list[str]:
    """The report's list of goals."""
    return [f"- {g.status}: {g.text}" for g in goals]


def summary(goals: list[Goal]) -> str:
    """The console summary at the end of a run: the counts, then every FAIL again."""
    counts = {word: sum(1 for g in goals if g.status == word) for word in ("PASS", "FAIL", "SKIP")}
    lines = [f"goals: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['SKIP']} SKIP (not measured)"]
    lines += [f"  FAIL ({g.part}): {g.text}" for g in goals if g.ok is False]
    return "\n".join(lines)


def exit_code(goals: list[Goal], broken: bool) -> int:
    if broken:
        return EXIT_BROKEN
    return EXIT_GOAL_FAILED if any(g.ok is False for g in goals) else EXIT_OK
