from tests.services.test_content import *  # noqa: F403
