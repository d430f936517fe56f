"""A batch run's outputs: written under temporary names beside their destinations, renamed into
place only when rows in = scored + rejected (:func:`_publish`, fsynced), and summarised in a
:class:`BatchResult` read back from the written files."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from scorecard.apply.inputs import BatchError


# -- the result -------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """What a run did: counts, reasons, unseen categories and the score distribution.

    Attributes
    ----------
    rows_in, rows_scored, rows_rejected
        Rows in the input, rows in the written output, rows in the written rejects file.
    rejected_by_reason
        Rejected rows per kind of problem (``"not a number in dti"``, ``"duplicate
        applicant_id"``...), most frequent first. A row with two problems counts in both.
    unseen_by_feature
        Scored rows with an unseen category, per categorical feature of the card.
    score
        ``min``, ``p10``, ``p50``, ``p90``, ``max`` and ``mean`` of the written scores
        (continuous quantiles, as numpy's default); None when no row was scored.
    extra_columns
        Input columns the card does not use (accepted, never read).
    published
        True when the output and rejects files were renamed into place.
    """

    input: Path
    output: Path
    rejects: Path
    engine: str
    input_format: str
    output_format: str
    card_name: str
    card_version: str
    id_column: str
    n_reasons: int
    rows_in: int
    rows_scored: int
    rows_rejected: int
    rejected_by_reason: dict[str, int]
    unseen_by_feature: dict[str, int]
    score: dict[str, float] | None
    extra_columns: list[str]
    seconds: float = 0.0
    published: bool = False
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """True when rows in = rows scored + rows rejected."""
        return self.rows_in == self.rows_scored + self.rows_rejected

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds > 0 else float("nan")


# -- atomic files -----------------------------------------------------------------------------
class _Staging:
    """Hidden temporary names beside each destination, renamed into place at the end.

    The names are the engine's own (``.scorecard-<token>-<n>.part``), never built from the
    user's file name: any name a user gives (glob or shell characters, 250 bytes long) stays
    a literal destination. Each part is created empty here, so that a folder that cannot be
    written is named before any work is done.
    """

    def __init__(self, *destinations: Path):
        token = secrets.token_hex(6)
        self.parts = {d: d.parent / f".scorecard-{token}-{i}.part" for i, d in enumerate(destinations)}
        anchor = destinations[0]
        self.spill = anchor.parent / f".scorecard-{token}.spill"
        for destination, part in self.parts.items():
            try:
                part.open("xb").close()
            except OSError as error:
                self.discard()
                raise BatchError(f"{destination.parent}: cannot write there ({error.strerror}); the output "
                                 f"{destination.name!r} needs a folder you can write to") from None

    def part(self, destination: Path) -> Path:
        return self.parts[destination]

    def discard(self) -> None:
        for part in self.parts.values():
            part.unlink(missing_ok=True)
        shutil.rmtree(self.spill, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(moves: list[tuple[Path, Path]]) -> None:
    """Rename each finished temporary file onto its destination, in the order given.

    Each file is flushed to disk first, and each folder after, so that a crash leaves
    either the previous file or the complete new one under the destination's name.
    """
    for part, destination in moves:
        _fsync(part)
    for part, destination in moves:
        os.replace(part, destination)
    for folder in {d.parent for _, d in moves}:
        try:
            _fsync(folder)
        except OSError:  # some filesystems cannot sync a folder; the renames are done
            pass
