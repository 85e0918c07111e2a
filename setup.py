"""Build hook: the wheel carries the bundled tag_policy.yaml (beside func.py here) as sync/tag_policy.yaml.

Everything else about the package is in pyproject.toml. One copy of the default policy lives in
the repository; the installed command finds the wheel's copy (sync/sources/bundled.py).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithPolicy(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "sync" / "tag_policy.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(HERE / "tag_policy.yaml"), str(target))


setup(cmdclass={"build_py": BuildPyWithPolicy})
