"""Every test of tests/services/test_invites.py, on PostgreSQL (see tests/pg/conftest.py)."""

from tests.services.test_invites import *  # noqa: F403
