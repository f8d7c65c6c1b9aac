"""Every test of tests/services/test_contest_results.py, on PostgreSQL (see tests/pg/conftest.py).

The release's lock on the contest, the leaderboard's reads and the certificate lookups across
the course and contest tables run there as in production.
"""

from tests.services.test_contest_results import *  # noqa: F403
