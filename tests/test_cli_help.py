"""Every sub-command's --help answers questions: a summary, an example, each option's job and default."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator

import pytest

from sync.cli.main import build_parser, main
from sync.emulator.cli import build_parser as build_emulator_parser

# Test knobs kept out of --help on purpose (argparse.SUPPRESS); nothing else may hide.
HIDDEN = {"--page-size"}


def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse._SubParsersAction]:  # type: ignore[type-arg]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield action


def every_parser() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    stack = [("backup-tag-sync", build_parser())]
    while stack:
        name, parser = stack.pop()
        if name == "backup-tag-sync emulator":
            parser = build_emulator_parser()  # main() hands `emulator ...` to this parser
        yield name, parser
        for action in subparsers(parser):
            stack += [(f"{name} {sub}", p) for sub, p in action.choices.items()]


PARSERS = dict(every_parser())


def test_the_walk_finds_every_command() -> None:
    names = {name.split()[-1] for name in PARSERS if name != "backup-tag-sync"}
    assert names == {"lint", "plan", "test", "apply", "sweep", "emulator", "demo", "doctor"}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_command_has_a_description_and_an_example(name: str) -> None:
    parser = PARSERS[name]
    assert parser.description and parser.description.strip(), f"{name}: no description"
    if name != "backup-tag-sync":
        assert parser.epilog and parser.epilog.startswith("example"), f"{name}: no example"
        assert "backup-tag-sync " in parser.epilog
    for action in subparsers(parser):
        listed = {a.dest for a in action._choices_actions if a.help}
        assert listed == set(action.choices), f"{name}: sub-command without a one-line summary"


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_option_says_what_it_does_and_its_default(name: str) -> None:
    parser = PARSERS[name]
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        label = "/".join(action.option_strings) or action.dest
        if action.help == argparse.SUPPRESS:
            assert label in HIDDEN, f"{name} {label}: hidden from --help"
            continue
        assert action.help and action.help.strip(), f"{name} {label}: no help"
        if action.option_strings and not action.required:
            rendered = formatter._expand_help(action)
            assert "default" in rendered, f"{name} {label}: help does not say its default: {rendered!r}"


@pytest.mark.parametrize("command", ["lint", "plan", "apply", "sweep", "demo"])
def test_help_prints_summary_and_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"], io.StringIO(), io.StringIO()) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: backup-tag-sync {command} ")
    assert "\nexample" in shown


def test_emulator_help_is_the_emulators_own(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["emulator", "--help"])
    shown = capsys.readouterr().out
    assert stop.value.code == 0 and shown.startswith("usage: backup-tag-sync emulator ")
    assert "--latency-ms MS" in shown and "--fault-seed N" in shown
