"""Bibliography labels in the book's in-text citation style: "Si Salem et al., 2024".

The book cites with sphinxcontrib-bibtex's ``author_year`` reference style, so the text reads
(Si Salem et al., 2024); pybtex's default labels would list the same work as [SSCN+24]. This
extension registers a pybtex formatting style, ``idn_author_year``, whose labels are the
in-text ones (one author: "Greydanus, 2020"; two: "Mienye and Sun, 2022"; more, or
"and others": "Si Salem et al., 2024"; a letter after the year if two labels collide).
``_config.yml`` selects it with ``bibtex_default_style: idn_author_year``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

STYLE_NAME = "idn_author_year"


def _last(person: Any) -> str:
    """A person's last name(s) as printed, without BibTeX braces."""
    words = list(person.prelast_names) + list(person.last_names)
    return " ".join(words).replace("{", "").replace("}", "")


def author_part(entry: Any) -> str:
    """The author part of a label: "A", "A and B" or "A et al."."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last(p) for p in people if _last(p).lower() != "others"]
    if not names:
        return entry.fields.get("title", entry.key)
    if len(names) == 1 and len(people) == 1:
        return names[0]
    if len(names) == 2 and len(people) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Author et al., year", with a/b/... where two entries would share one."""

    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterator[str]:
        entries = list(sorted_entries)
        base = [f"{author_part(e)}, {e.fields.get('year', 'n.d.')}" for e in entries]
        counts, seen = Counter(base), Counter()
        for label in base:
            if counts[label] == 1:
                yield label
            else:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1


class AuthorYearStyle(UnsrtStyle):
    """pybtex's ``unsrt`` entries, labelled by :class:`AuthorYearLabelStyle`, sorted by author."""

    default_label_style = AuthorYearLabelStyle
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", STYLE_NAME, AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle)


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: the styles are registered on import; nothing else to set up."""
    return {"parallel_read_safe": True, "parallel_write_safe": True}
