"""Goal lines: PASS, FAIL, or SKIP when not measured."""
from __future__ import annotations

from typing import NamedTuple

PART_PREFIX = {"echo": "", "HTTP/2": "HTTP/2 ", "gRPC": "gRPC "}


class Goal(NamedTuple):
    part: str  # "echo", "HTTP/2", "gRPC"
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
