"""Where the bundled default policy is: beside func.py (checkout, image) or in the package (installed)."""

from __future__ import annotations

from pathlib import Path

# Written into the wheel by setup.py (a copy of the repository's tag_policy.yaml); absent in a
# checkout and in the function image, where the file beside func.py is the one.
PACKAGED = Path(__file__).resolve().parents[1] / "tag_policy.yaml"
BESIDE_FUNC = Path(__file__).resolve().parents[2] / "tag_policy.yaml"


def default_policy_path() -> str:
    """The installed copy when there is one, else `tag_policy.yaml` beside func.py."""
    return str(PACKAGED if PACKAGED.is_file() else BESIDE_FUNC)


DEFAULT_POLICY = default_policy_path()
