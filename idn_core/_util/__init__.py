"""Layer 0: plumbing every other layer may use (atomic writes, thread pinning, argument checks,
the disk cache). Private to idn_core: nothing here is part of the public API.
"""

from idn_core._util.atomic import (
    STALE_TEMPORARY_S,
    atomic_write_with,
    current_umask,
    remove_stale_temporaries,
)
from idn_core._util.cache import (
    CACHE_VERSION,
    ENTRY_MAGIC,
    atomic_save,
    cache_key,
    cached,
    default_cache_dir,
    load_entry,
    save_entry,
)
from idn_core._util.threads import (
    single_threaded,
    torch_threads,
)
from idn_core._util.validation import (
    as_float_array,
    check_choice,
    check_finite,
    check_finite_array,
    check_fraction,
    check_index_array,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_probabilities,
    check_seed,
    check_shares,
    check_type,
)

__all__ = [
    "CACHE_VERSION",
    "ENTRY_MAGIC",
    "STALE_TEMPORARY_S",
    "as_float_array",
    "atomic_save",
    "atomic_write_with",
    "cache_key",
    "cached",
    "check_choice",
    "check_finite",
    "check_finite_array",
    "check_fraction",
    "check_index_array",
    "check_non_negative",
    "check_positive",
    "check_positive_int",
    "check_probabilities",
    "check_seed",
    "check_shares",
    "check_type",
    "current_umask",
    "default_cache_dir",
    "load_entry",
    "remove_stale_temporaries",
    "save_entry",
    "single_threaded",
    "torch_threads",
]
