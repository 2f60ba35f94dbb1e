import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hypothesis import settings  # noqa: E402

# Property tests are deterministic: derandomized, no example database on disk.
settings.register_profile("ribbon", derandomize=True, database=None, deadline=None, max_examples=60)
settings.load_profile("ribbon")
