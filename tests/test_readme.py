"""The README's local commands, run as written against the emulator, so the README cannot drift.

A block preceded by `<!-- tested: NAME -->` is a transcript: `$ command` lines (a trailing `\\`
continues one), each followed by the output it must print (stdout and stderr together). `...`
alone on a line stands for any lines, and inside a line for any text; a command followed by no
output is checked for its exit status only, which is 0 unless the line says `# exit N`. The
commands of a block run in one bash, in order, with PATH holding the `backup-tag-sync` (and `fdk`)
of a fresh venv the package was installed into as the README's install block says
(tests/installed.py) and nothing of the checkout: not its venv, not PYTHONPATH. A block marked
`in checkout` runs in the repository itself (and must leave no untracked file there); the others
run in an empty directory outside it. `background` starts a block's one command and reads its
output until it has printed everything shown; `continues X` runs X's commands first in the same
shell. The only rewrites: /tmp/oci-emu and port 8181 become a private directory and a free port,
as two test runs on one machine must not share them.

Every `sh` block says whether it is tested; those that need a tenancy say so and are not run.
"""

from __future__ import annotations

import os
import re
import selectors
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.installed import ROOT, installed_venv

__all__ = ["installed_venv"]  # the fixture
README = ROOT / "README.md"
MARKER = re.compile(r"<!-- (tested|not run): (.+?) -->")
RC_MARK = "@@readme-rc="


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    exit_code: int = 0


@dataclass
class Block:
    name: str
    options: list[str]
    steps: list[Step]
    line: int


def sh_blocks() -> Iterator[tuple[int, str | None, list[str]]]:
    """(line, marker text or None, lines) for every ```sh block in the README."""
    lines = README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            marker = lines[i - 1].strip() if i else ""
            end = lines.index("```", i + 1)
            yield i + 1, (marker if MARKER.fullmatch(marker) else None), lines[i + 1 : end]
            i = end
        i += 1


def parse_transcript(lines: list[str]) -> list[Step]:
    steps: list[Step] = []
    continuing = False
    for line in lines:
        if continuing:
            steps[-1].command += "\n" + line
        elif line.startswith("$ "):
            steps.append(Step(line[2:]))
            found = re.search(r"#\s*exit (\d+)", line)
            steps[-1].exit_code = int(found.group(1)) if found else 0
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1].expected.append(line)
        continuing = line.endswith("\\")
    return steps


def readme_blocks() -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    for line, marker, lines in sh_blocks():
        found = MARKER.fullmatch(marker or "")
        if found and found.group(1) == "tested":
            name, *options = [part.strip() for part in found.group(2).split(",")]
            assert name not in blocks, f"two README blocks named {name}"
            blocks[name] = Block(name, options, parse_transcript(lines), line)
    return blocks


def matches(expected: list[str], actual: str) -> bool:
    pattern = ""
    for line in expected:
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*".join(re.escape(part) for part in line.rstrip().split("...")) + r"\n"
    text = "".join(line.rstrip() + "\n" for line in actual.splitlines())
    return re.fullmatch(pattern, text) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def untracked() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listed.stdout.splitlines())


class Shell:
    """Where the README's commands run: the installed command on PATH, a directory, the rewrites."""

    def __init__(self, tmp: Path, venv: Path) -> None:
        self.outside = tmp / "work"
        self.outside.mkdir()
        self.rewrites = {"/tmp/oci-emu": str(tmp / "oci-emu"), "8181": str(free_port())}
        keep = ("HOME", "LANG", "LC_ALL", "TMPDIR")
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(PATH=f"{venv / 'bin'}:/usr/bin:/bin")

    def cwd(self, block: Block) -> Path:
        return ROOT if "in checkout" in block.options else self.outside

    def rewrite(self, text: str) -> str:
        for old, new in self.rewrites.items():
            text = text.replace(old, new)
        return text

    def run(self, block: Block, before: list[Step] = ()) -> None:  # type: ignore[assignment]
        steps = [*before, *block.steps]
        # A background job the README starts and a failing step would leave behind is ended with bash.
        script = "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n"
        script += "".join(f"{self.rewrite(s.command)}\necho '{RC_MARK}'$?\n" for s in steps)
        before_files = untracked()
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd(block),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        if "in checkout" in block.options:
            left = untracked() - before_files
            assert not left, f"README {block.name}: left untracked files in the checkout: {sorted(left)}"
        outputs = re.split(rf"{RC_MARK}(\d+)\n", done.stdout)
        assert len(outputs) == 2 * len(steps) + 1, (
            f"README {block.name}: the shell stopped early:\n{done.stdout}"
        )
        for i, step in enumerate(steps):
            output, code = outputs[2 * i], int(outputs[2 * i + 1])
            where = f"README block {block.name!r} (line {block.line}): $ {step.command}"
            assert code == step.exit_code, f"{where}\nexit {code}, not {step.exit_code}:\n{output}"
            if step.expected:
                expected = [self.rewrite(line) for line in step.expected]
                assert matches(expected, output), f"{where}\nprinted:\n{output}\nREADME shows:\n" + "\n".join(
                    expected
                )

    def start(self, block: Block) -> subprocess.Popen[bytes]:
        """Starts the block's one command; returns once it printed what the README shows."""
        (step,) = block.steps
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {self.rewrite(step.command)}"],
            cwd=self.cwd(block),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert proc.stdout is not None
        expected = [self.rewrite(line) for line in step.expected]
        printed = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + 30
            while printed.count(b"\n") < len(expected) and time.monotonic() < deadline:
                if sel.select(timeout=0.5):
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    printed += chunk
        text = printed.decode()
        if not matches(expected, text):
            proc.kill()
            proc.wait()
        assert matches(expected, text), (
            f"README {block.name!r} printed:\n{text}\nREADME shows:\n" + "\n".join(expected)
        )
        return proc


BLOCKS = readme_blocks()


def test_every_sh_block_says_whether_it_is_tested() -> None:
    unmarked = [line for line, marker, _ in sh_blocks() if marker is None]
    assert unmarked == [], (
        f"README sh blocks at lines {unmarked} need <!-- tested: NAME --> or <!-- not run: why -->"
    )
    assert set(BLOCKS) == {"offline", "demo", "emulator", "live", "fdk"}


def test_transcript_matching_is_strict() -> None:
    # The matcher the other tests lean on: wildcards where the README shows `...`, nothing else.
    assert matches(["a", "...", "z"], "a\nb\nc\nz\n")
    assert matches(["x ... y"], "x 1 2 y\n")
    assert not matches(["a", "z"], "a\nb\nz\n")
    assert not matches(["OK, 2 rule(s)"], "OK, 3 rule(s)\n")
    assert not matches(["a"], "a\nextra\n")


def test_blocks_that_need_the_checkout_say_so() -> None:
    # samples/, func.py and tag_policy.yaml are the checkout's: a block reading them runs there.
    for block in BLOCKS.values():
        text = " ".join(step.command for step in block.steps)
        needs = any(name in text for name in ("samples/", "func.py", "tag_policy.yaml", " demo"))
        assert needs == ("in checkout" in block.options), block.name


def test_offline_commands(tmp_path: Path, installed_venv: Path) -> None:
    Shell(tmp_path, installed_venv).run(BLOCKS["offline"])


def test_demo(tmp_path: Path, installed_venv: Path) -> None:
    Shell(tmp_path, installed_venv).run(BLOCKS["demo"])


def test_emulator_then_live_commands_then_the_function_under_the_fdk(
    tmp_path: Path, installed_venv: Path
) -> None:
    shell = Shell(tmp_path, installed_venv)
    emulator, live, fdk = BLOCKS["emulator"], BLOCKS["live"], BLOCKS["fdk"]
    assert "background" in emulator.options and "continues live" in fdk.options
    # The settings the live block exports are the ones the emulator prints.
    printed = {line.strip() for line in emulator.steps[0].expected if line.strip().startswith("export ")}
    exported = " ".join(live.steps[0].command.replace("\\\n", " ").split()[1:])
    assert printed == {f"export {pair}" for pair in exported.split()}
    proc = shell.start(emulator)
    try:
        shell.run(live)
        shell.run(fdk, before=live.steps[:1])  # the same shell: the exports first
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode is not None
