from tests.services.test_universities import *  # noqa: F403
