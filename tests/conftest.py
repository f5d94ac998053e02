from portal.testing import *  # noqa: F403
