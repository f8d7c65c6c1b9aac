"""Every test of tests/services/test_universities.py, on PostgreSQL (see tests/pg/conftest.py)."""

from tests.services.test_universities import *  # noqa: F403
