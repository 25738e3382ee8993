"""``devtools_testutils.helpers``: only ``locate_assets``, which the SDK's conftest imports."""

from __future__ import annotations

from pathlib import Path

__all__ = ["locate_assets"]


def locate_assets(current_test_file: str) -> str:
    """Upstream finds the recordings repository; here the assets sit next to the tests."""
    for parent in Path(current_test_file).resolve().parents:
        candidate = parent / "asset"
        if candidate.is_dir():
            return str(candidate)
    raise FileNotFoundError(f"no asset directory above {current_test_file}")
