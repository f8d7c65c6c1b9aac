from tests.services.test_invites import *  # noqa: F403
