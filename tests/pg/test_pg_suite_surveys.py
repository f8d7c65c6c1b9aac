from tests.services.test_surveys import *  # noqa: F403
