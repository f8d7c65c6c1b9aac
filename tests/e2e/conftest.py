"""End-to-end tests run the real `python -m bot` process over HTTP: marked `e2e`.

`pytest` alone leaves them out for a fast loop (see `addopts` in pyproject.toml);
`python3 dev.py test`, and so CI, runs them with everything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this folder `e2e`."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
