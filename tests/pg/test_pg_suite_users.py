"""Every test of tests/services/test_users.py, on PostgreSQL (see tests/pg/conftest.py)."""

from tests.services.test_users import *  # noqa: F403
