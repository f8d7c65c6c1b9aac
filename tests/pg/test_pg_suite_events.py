"""Every test of tests/services/test_events*.py, on PostgreSQL (see tests/pg/conftest.py)."""

from tests.services.test_events import *  # noqa: F403
from tests.services.test_events_calendar import *  # noqa: F403
from tests.services.test_events_reminders import *  # noqa: F403
