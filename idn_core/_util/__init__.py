"""Layer 0: plumbing every other layer may use (atomic writes, thread pinning, argument checks,
the disk cache). Private to idn_core: nothing here is part of the public API.
"""

from idn_core._util.atomic import (
    atomic_write_with,
)
from idn_core._util.cache import (
    CACHE_VERSION,
    atomic_save,
    cache_key,
    cached,
    default_cache_dir,
    load_entry,
)
from idn_core._util.threads import (
    single_threaded,
    torch_threads,
)
from idn_core._util.validation import (
    check_choice,
    check_finite,
    check_fraction,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_probabilities,
    check_type,
)

__all__ = [
    "CACHE_VERSION",
    "atomic_save",
    "atomic_write_with",
    "cache_key",
    "cached",
    "check_choice",
    "check_finite",
    "check_fraction",
    "check_non_negative",
    "check_positive",
    "check_positive_int",
    "check_probabilities",
    "check_type",
    "default_cache_dir",
    "load_entry",
    "single_threaded",
    "torch_threads",
]
