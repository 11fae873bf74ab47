import os
import sys

here = os.path.dirname(__file__)
sys.path.insert(0, here)
# The real XMPP client the integration tests use (python3-slixmpp).
sys.path.insert(0, os.path.join(here, "..", "integration"))
