"""The sweep progress display: its text, the plain and hand-drawn forms, rich on a terminal, no rich."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from sync.cli.progress import ProgressBar, RichProgress, progress_display, progress_text
from sync.sweep.runner import SweepProgress


def snap(done: int, scanned: int, listing_done: bool, elapsed: float, **counts: int) -> SweepProgress:
    return SweepProgress(
        scanned=scanned, done=done, counts=counts, pages=1, elapsed=elapsed, listing_done=listing_done
    )


def test_text_with_a_known_total_has_percent_rate_and_time_left() -> None:
    text = progress_text(snap(120, 300, True, 2.0, updated=20, unchanged=95, failed=5))
    assert text == "120/300 backups  40%  60/s  3s left  updated 20  unchanged 95  failed 5  elapsed 2s"


def test_text_while_listing_says_the_total_is_not_known() -> None:
    text = progress_text(snap(50, 200, False, 2.0, planned=50))
    assert text == "50/200+ backups (listing)  25/s  planned 50  elapsed 2s"
    assert "left" not in text and "%" not in text


def test_long_runs_read_in_minutes_and_hours() -> None:
    assert "1m40s left" in progress_text(snap(100, 200, True, 100.0))
    assert "2h00m left" in progress_text(snap(1, 7201, True, 1.0))
    assert "elapsed 1h01m" in progress_text(snap(1, 1, True, 3700.0))


def test_plain_lines_are_throttled_and_the_last_state_is_shown_at_the_end() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, tty=False, every=3600)
    bar(snap(1, 10, False, 1.0, updated=1))
    bar(snap(5, 10, True, 2.0, updated=5))  # within the interval: held back
    assert out.getvalue().count("\n") == 1
    bar.finish()
    lines = out.getvalue().splitlines()
    assert lines == [
        "progress: 1/10+ backups (listing)  1/s  updated 1  elapsed 1s",
        "progress: 5/10 backups  50%  2/s  2s left  updated 5  elapsed 2s",
    ]
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()


def test_rich_redraws_one_line_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140, color_system=None)
    display = RichProgress(out, console=console)
    display(snap(50, 200, False, 2.0, updated=50))
    display(snap(200, 200, True, 4.0, updated=150, unchanged=50))
    display.finish()
    shown = out.getvalue()
    assert "200/200 backups  100%  50/s  updated 150  unchanged 50  elapsed 4s" in shown
    assert shown.count("\n") == 1 and "\r\x1b[2K" in shown  # one line, redrawn in place
    assert display.progress.tasks[0].total == 200 and display.progress.tasks[0].completed == 200


def test_terminal_uses_rich_and_plain_output_never_does() -> None:
    tty = progress_display(io.StringIO(), tty=True)
    assert isinstance(tty, RichProgress)
    tty.finish()
    assert isinstance(progress_display(io.StringIO(), tty=False), ProgressBar)


def test_without_rich_the_terminal_gets_the_hand_drawn_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in an install without the `cli` extra: importing rich fails.
    for name in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rich", None)
    out = io.StringIO()
    display = progress_display(out, tty=True)
    assert isinstance(display, ProgressBar)
    display(snap(3, 4, True, 1.0, updated=3))
    display.finish()
    assert out.getvalue().startswith("\r[##################......] 3/4 backups  75%")
