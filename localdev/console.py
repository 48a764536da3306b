"""What `make run`'s console shows: the API's requests and the worker's jobs by default; with
`make run VERBOSE=1` (`python -m localdev.run --verbose`) also the embedded AWS's access log and the
AWS SDK's own messages.

`localdev.run` hands the choice to every process of the stack as SPOKE_VERBOSE (they are started
with its environment), so each one reads it here.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

VERBOSE_VARIABLE = "SPOKE_VERBOSE"
_TRUE = ("1", "true", "yes", "on")


def verbose_from_env(env: Mapping[str, str] | None = None) -> bool:
    """SPOKE_VERBOSE=1 (or true, yes, on): the developer asked for every line."""
    value = (os.environ if env is None else env).get(VERBOSE_VARIABLE, "")
    return value.strip().lower() in _TRUE
