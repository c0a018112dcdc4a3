"""The IDN Book's papermill-first build: ``python -m idn_core.book build --profile quick``.

Modules, from the bottom up (each imports only those above it in this list):

- ``records``: the errors and plain records every step shares;
- ``yamlfile``: strict YAML reading (duplicate keys rejected, errors with file and line);
- ``params``: profiles (``notebooks/profiles.yaml``) and notebook parameter checks;
- ``toc``: the notebooks of ``_toc.yml`` with their checked parameters;
- ``cache``: the executed-notebook cache (its key, verified entries, prose merge);
- ``runner``: one papermill run of one notebook (environment, time limits, failures);
- ``execute``: every notebook executed or reused, the first alone, then in parallel;
- ``downloads``: what a reader downloads (the ``idn_core`` wheel, the notebook archive)
  and the commands that run a chapter from them;
- ``stage``: the stage for jupyter-book (with the downloads, the "run this chapter
  yourself" boxes, the notices at saved widgets) and the Sphinx run;
- ``build``: the whole build; ``cli`` and ``__main__``: the command line.

Notebooks never import this package, which is why its sources are not part of the
executed-notebook cache key.
"""

from idn_core.book.build import build_book
from idn_core.book.cache import library_digest, merge_prose
from idn_core.book.cli import command_status
from idn_core.book.downloads import build_wheel, notebook_archive, run_commands
from idn_core.book.execute import default_jobs, execute_all, execute_notebook
from idn_core.book.glued import glued_values
from idn_core.book.params import load_profiles
from idn_core.book.records import (
    BookBuildError,
    CacheWarning,
    Notebook,
    NotebookError,
    NotebookRun,
    ParameterError,
    PlannedRun,
    ProfileError,
    SphinxBuildError,
)
from idn_core.book.runner import cell_timeout_s
from idn_core.book.toc import default_root, plan, toc_files, toc_notebooks

__all__ = [
    "glued_values",
    "BookBuildError",
    "CacheWarning",
    "Notebook",
    "NotebookError",
    "NotebookRun",
    "ParameterError",
    "PlannedRun",
    "ProfileError",
    "SphinxBuildError",
    "build_book",
    "build_wheel",
    "cell_timeout_s",
    "command_status",
    "default_jobs",
    "default_root",
    "execute_all",
    "execute_notebook",
    "library_digest",
    "load_profiles",
    "merge_prose",
    "notebook_archive",
    "plan",
    "run_commands",
    "toc_files",
    "toc_notebooks",
]
