from tests.services.test_broadcasts import *  # noqa: F403
