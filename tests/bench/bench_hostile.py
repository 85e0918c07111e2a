r"""Benchmark: hostile policies and names (prints figures; not a test).

1. Plan one backup whose display name is 10 KB, against a policy holding the ReDoS corpus
   (goal: worst case < 10 ms), beside the same plan for a 40-character name, and beside what
   Python's backtracking `re` takes for the first pattern on a 22-character name.
2. `lint` time and peak extra memory (RSS growth of a subprocess after its imports, or the
   tracemalloc peak of a second run when larger) for the
   alias-bomb corpus, for policies at the 1 MiB limit, and for slow-to-refuse regexes (500 rules
   of [\p{L}\p{N}]{1000}, which RE2 takes 15-45 ms each to refuse) (goal: < 0.5 s of CPU, < 50 MB).

    .venv/bin/python tests/bench/bench_hostile.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sync.policy.loader import load_policy  # noqa: E402
from sync.policy.planner import plan  # noqa: E402

REDOS = [
    "(a+)+$",
    "(a|aa)+$",
    "(a|a?)+$",
    "(.*a){12}$",
    "^(\\w+\\s?)*$",
    "(x+x+)+y",
    "^(a+)+b",
    "(\\d+)*[a-z]$",
    "^(([a-z])+.)+[A-Z]([a-z])+$",
    "(.*){1,32}[bc]",
]
# Not backtracking traps but the largest programs the per-pattern limit lets through.
LARGE = [".{120}x.{120}", "[^a]{240}b", "(.?){100}z", "\\p{L}"]
MiB = 1024 * 1024
GOAL_PLAN_MS, GOAL_LINT_S, GOAL_MB = 10.0, 0.5, 50.0


def policy_of(patterns: list[str]) -> str:
    rules = "".join(
        f"  - name: p{i}\n    match: {{display_name: {{regex: {json.dumps(p)}}}}}\n    display_name: hit\n"
        for i, p in enumerate(patterns)
    )
    return "version: 1\nrules:\n" + rules


def names_10kb() -> dict[str, str]:
    return {
        "a*10000+!": "a" * 10_000 + "!",
        "ab*5000": "ab" * 5_000,
        "x*10000": "x" * 10_000,
        "word space*2000": "word " * 2_000,
        "é*10000": "é" * 10_000,
    }


def time_ms(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_plan(repeats: int) -> bool:
    print("## plan one backup: 10 KB display name vs the ReDoS corpus (median of", repeats, "runs)")
    ok = True
    for title, patterns in (
        ("ReDoS corpus (10 rules)", REDOS),
        ("largest allowed programs (4 rules)", LARGE),
    ):
        policy = load_policy(policy_of(patterns))
        short = {"id": "b", "display_name": "Auto-backup for prod-db-vg via policy: gold"}
        base = time_ms(lambda p=policy, b=short: plan(p, b, None, None), repeats)
        worst_name, worst = "", 0.0
        for label, name in names_10kb().items():
            backup = {"id": "b", "display_name": name}
            ms = time_ms(lambda p=policy, b=backup: plan(p, b, None, None), repeats)
            if ms > worst:
                worst_name, worst = label, ms
        goal = title.startswith("ReDoS")
        verdict = ("OK" if worst < GOAL_PLAN_MS else "MISSED") if goal else "(no goal)"
        ok &= worst < GOAL_PLAN_MS or not goal
        print(
            f"  {title}: worst {worst:.3f} ms ({worst_name}); 40-char name {base:.3f} ms;"
            f" ratio {worst / base:.0f}x  {verdict}"
        )
    for pattern in LARGE:
        single = load_policy(policy_of([pattern]))
        worst = max(
            time_ms(lambda p=single, b={"id": "b", "display_name": n}: plan(p, b, None, None), repeats)
            for n in names_10kb().values()
        )
        print(f"    {pattern!r}: worst {worst:.3f} ms")
    start = time.perf_counter()
    re.search(REDOS[0], "a" * 22 + "!")
    print(
        f"  baseline: Python re, {REDOS[0]!r} on a 23-character name: {(time.perf_counter() - start) * 1000:.0f} ms"
    )
    print("    (it doubles with each character: 10 KB would not finish)")
    return ok


def alias_bombs() -> dict[str, str]:
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    quadratic_anchor = "x" * 500_000
    quadratic = f"s: &s {quadratic_anchor}\n" + "".join(f"k{i}: *s\n" for i in range(50_000))
    return {
        "billion laughs (9 levels)": laughs
        + "version: 1\nrules: [{name: r, match: {display_name: *i}, display_name: x}]\n",
        "quadratic blow-up (500 KB anchor x 50k aliases)": quadratic[: MiB - 100],
        "1 MiB of aliases": "a: &a [x]\nb: [" + "*a, " * ((MiB - 40) // 4) + "*a]\n",
    }


def pad_to_mib(text: str) -> str:
    pad = "# " + "padding " * 100 + "\n"
    return text + pad * ((MiB - len(text)) // len(pad))


def one_mib() -> dict[str, str]:
    def fill(head: str, item: Callable[[int], str], tail: str = "") -> str:
        parts, size, i = [head], len(head) + len(tail), 0
        while True:
            piece = item(i)
            if size + len(piece) > MiB - 10:
                break
            parts.append(piece)
            size += len(piece)
            i += 1
        return "".join(parts) + tail

    rule = (
        "  - name: rule-{i}\n    match:\n      source_type: [SCHEDULED, MANUAL]\n"
        "      display_name: {{regex: '^(Auto-backup|nightly)-{i}'}}\n"
        "      volume_group: {{freeform_tags: {{env: [prod, staging, dev, test]}}}}\n"
        "    display_name: '${{volume_group.display_name|slug}}-${{backup.time_created|date:%Y%m%d}}'\n"
        "    freeform_tags:\n"
        + "".join(f"      key{k}-{{i}}: '${{{{backup.type|lower}}}}-{k}'\n" for k in range(10))
        + "    defined_tags:\n      Ops:\n"
        + "".join(f"        Key{k}-{{i}}: '${{{{backup.type|lower}}}}-{k}'\n" for k in range(30))
    )
    rules_500 = pad_to_mib("version: 1\nrules:\n" + "".join(rule.format(i=i) for i in range(500)))
    head = "version: 1\nrules:\n  - name: r\n    display_name: x\n"
    return {
        "500 rules x 40 tags, 10 freeform (+comments to 1 MiB)": rules_500,
        "one list of 150k values": fill(head + "    match:\n      type: [", lambda i: f"v{i}, ", "x]\n"),
        "500 rules x 40 distinct templates": pad_to_mib(
            "version: 1\nrules:\n"
            + "".join(
                f"  - name: r{r}\n    freeform_tags:\n"
                + "".join(f"      k{i}: '${{backup.type|lower}}-{r}-{i}'\n" for i in range(10))
                + "    defined_tags:\n      Ops:\n"
                + "".join(f"        K{i}: '${{backup.type|lower}}-{r}-{i}'\n" for i in range(30))
                for r in range(500)
            )
        ),
        "500 rules x 20 tag conditions (+comments)": pad_to_mib(
            "version: 1\nrules:\n"
            + "".join(
                f"  - name: r{r}\n    display_name: x\n    match:\n      freeform_tags:\n"
                + "".join(f"        k{i}: {{exists: true}}\n" for i in range(20))
                for r in range(500)
            )
        ),
        "500 rules x 70 tag conditions": "version: 1\nrules:\n"
        + "".join(
            f"  - name: r{r}\n    display_name: x\n    match:\n      freeform_tags:\n"
            + "".join(f"        k{i}: {{exists: true}}\n" for i in range(70))
            for r in range(500)
        ),
        "500 rules x 2 regexes (+comments)": pad_to_mib(
            "version: 1\nrules:\n"
            + "".join(
                f"  - name: r{r}\n    display_name: x\n    match:\n      display_name: {{regex: '^[a-z]+-{r}$'}}\n"
                f"      freeform_tags: {{k: {{regex: '(a+)+{r}$'}}}}\n"
                for r in range(500)
            )
        ),
        "70k tag conditions in one rule": fill(
            head + "    match:\n      freeform_tags:\n", lambda i: f"        k{i}: {{exists: true}}\n"
        ),
        "one 1 MiB string": head + "    freeform_tags: {a: '" + "x" * (MiB - len(head) - 40) + "'}\n",
        "deep nesting (flow)": head + "    match: {type: " + "[" * 5000 + "]" * 5000 + "}\n",
        "60k unknown keys": fill(head, lambda i: f"    unknown{i}: 1\n"),
    }


MEASURE = """
import io, resource, sys, time, tracemalloc
from sync.cli.main import main
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss()
start, cpu = time.perf_counter(), time.process_time()
code = main(["lint", sys.argv[1]], io.StringIO(), err := io.StringIO())
took, cpu = time.perf_counter() - start, time.process_time() - cpu
extra = rss() - base
tracemalloc.start()  # a second run, for the Python heap's peak (slower: not timed)
main(["lint", sys.argv[1]], io.StringIO(), io.StringIO())
peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
print(code, took, cpu, extra, peak, err.getvalue().splitlines()[0][:110] if err.getvalue() else "OK")
"""


def lint_one(text: str, repeats: int) -> tuple[int, float, float, float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(text)
        runs = []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", MEASURE, str(path)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=True,
            ).stdout.split(" ", 5)
            runs.append(
                (int(out[0]), float(out[1]), float(out[2]), max(float(out[3]), float(out[4])), out[5].strip())
            )
    code, *_, message = runs[0]
    wall, cpu = statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)
    return code, wall, cpu, max(r[3] for r in runs), message


def slow_to_refuse() -> dict[str, str]:
    def rules(pattern: Callable[[int], str]) -> str:
        return "version: 1\nrules:\n" + "".join(
            f"  - name: r{i}\n    display_name: x\n    match: {{display_name: {{regex: {json.dumps(pattern(i))}}}}}\n"
            for i in range(500)
        )

    return {
        "500 rules of [\\p{L}\\p{N}]{1000}": rules(lambda i: "[\\p{L}\\p{N}]{1000}"),
        "500 rules of distinct [\\p{L}\\p{N}]{1000}N": rules(lambda i: f"[\\p{{L}}\\p{{N}}]{{1000}}{i}"),
        "500 rules of \\p{L}{2}N (compiled, then refused)": rules(lambda i: f"\\p{{L}}{{2}}{i}"),
        "500 rules x 8 regexes just under the size limit": "version: 1\nrules:\n"
        + "".join(
            f"  - name: r{r}\n    display_name: x\n    match:\n      freeform_tags:\n"
            + "".join(f"        k{k}: {{regex: '[^a]{{240}}{r}-{k}'}}\n" for k in range(8))
            for r in range(500)
        ),
    }


def bench_lint(repeats: int) -> bool:
    print(f"\n## lint: wall and CPU time (median of {repeats}); extra memory: the larger of RSS growth and")
    print("## the traced Python heap's peak (max over runs)")
    ok = True
    for group, corpus in (
        ("alias bombs", alias_bombs()),
        ("1 MiB policies", one_mib()),
        ("slow-to-refuse regexes", slow_to_refuse()),
    ):
        print(f"  {group}:")
        for title, text in corpus.items():
            code, seconds, cpu, mb, message = lint_one(text, repeats)
            # CPU time decides: on a shared machine the wall time mostly measures the others' load.
            good = cpu < GOAL_LINT_S and mb < GOAL_MB and "Traceback" not in message
            ok &= good
            print(
                f"    {title} ({len(text.encode()) / 1024:.0f} KiB): exit {code}, {seconds:.3f} s"
                f" ({cpu:.3f} s CPU),"
                f" +{mb:.1f} MB  {'OK' if good else 'MISSED'}\n      {message}"
            )
    return ok


def main() -> int:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ok = bench_plan(args.repeats)
    ok &= bench_lint(max(1, args.repeats // 2))
    print("\nall goals met" if ok else "\nsome goals MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
