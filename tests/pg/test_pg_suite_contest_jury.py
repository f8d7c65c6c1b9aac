"""Every test of tests/services/test_contest_jury.py, on PostgreSQL (see tests/pg/conftest.py).

The allocation duty's claim (`FOR UPDATE SKIP LOCKED` on the contest), the review row lock
(`FOR UPDATE OF contest_review` across the juror join), the reminder's due query (the jury
deadline against a bound time) and the progress aggregates run there as in production.
"""

from tests.services.test_contest_jury import *  # noqa: F403
