"""Every test of the resource bank's service suites, on PostgreSQL (see tests/pg/conftest.py):
the full-text search through the GIN index of migration 0014, the row locks of moderation,
the contribution figures' aggregates."""

from tests.services.test_bank_stats import *  # noqa: F403
from tests.services.test_resource_search import *  # noqa: F403
from tests.services.test_resources import *  # noqa: F403
