"""Every test of tests/services/test_contest_entries.py, on PostgreSQL (see tests/pg/conftest.py).

Row locks (`FOR UPDATE` on the entry a co-author joins), boolean ordering of authors and the
reminder's due query run there as they do in production.
"""

from tests.services.test_contest_entries import *  # noqa: F403
