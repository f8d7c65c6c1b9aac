"""Every test of tests/services/test_broadcasts.py, on PostgreSQL (see tests/pg/conftest.py)."""

from tests.services.test_broadcasts import *  # noqa: F403
