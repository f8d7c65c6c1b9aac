"""Every test of tests/services/test_content.py, on PostgreSQL (see tests/pg/conftest.py)."""

from tests.services.test_content import *  # noqa: F403
