from tests.services.test_users import *  # noqa: F403
