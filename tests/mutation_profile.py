"""A pytest plugin loaded only by `make mutation` (``pytest_add_cli_args`` in pyproject.toml's [tool.mutmut]).

mutmut records which test reaches which function, which makes every hypothesis example several times slower:
the per-example deadline is lifted, and the examples are derandomized so that two runs score alike.
"""

from hypothesis import settings

settings.register_profile("mutation", deadline=None, derandomize=True, print_blob=False)
settings.load_profile("mutation")
