import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests are deterministic: derandomized, no example database on disk.
settings.register_profile("ribbon", derandomize=True, database=None, deadline=None, max_examples=60)
settings.load_profile("ribbon")


@pytest.fixture
def record_calls(monkeypatch):
    """``record_calls(module, name)`` wraps ``module.name`` for the test and returns the
    list that receives, at each call, its arguments by parameter name (defaults
    filled in); the wrapped function runs unchanged."""
    import inspect

    def spy_on(module, name):
        calls = []
        inner = getattr(module, name)
        signature = inspect.signature(inner)

        def spy(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            calls.append(dict(bound.arguments))
            return inner(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
        return calls

    return spy_on
