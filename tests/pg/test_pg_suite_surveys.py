"""Every test of tests/services/test_surveys.py, on PostgreSQL (see tests/pg/conftest.py)."""

from tests.services.test_surveys import *  # noqa: F403
