"""The sentences the chapters compute and glue into their prose, in every edition's words.

A chapter glues a sentence such as "within two standard errors (3.4 points)" with ``{glue:md}``; the Chinese pages
show the same sentence in Chinese, with the same numbers. Each sentence is a :class:`Wording`, a template in English
and in Traditional Chinese, kept with its chapter's others in ``wording/chNN.py``::

    WITHIN = Wording("within two standard errors ({noise:.1f} points)", "在兩個標準誤（{noise:.1f} 個百分點）之內")
    glue("placement_verdict", Markdown(say(WITHIN, noise=3.4)))

:func:`say` fills every version with the same values and returns a :class:`~dlfoundations.book.Said`. A value that
is itself a ``Said`` (``config.run_description``, another ``say``) fills each version with its own version.

The Simplified templates are derived, never written by hand: ``python -m dlfoundations.editions write`` converts
each Traditional template as it converts the catalogues (OpenCC, the glossary's 简体 names, ``locale/zh_CN``) into
``wording/_zh_CN.py``, and ``make test`` fails when that file is stale. ``tests/test_wording.py`` checks that every
template's versions take the same values and keep the same maths, code and numbers.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import string

from ..book import GLUE_LANGUAGES, Said


@dataclasses.dataclass(frozen=True)
class Wording:
    """A glued sentence's template (``str.format`` fields) in English and in Traditional Chinese (Taiwan usage).

    ``not_terms`` names glossary terms the English uses in another sense here (a statistical *bias*), which the
    Chinese therefore need not render by the glossary's name."""

    en: str
    zh_TW: str
    not_terms: tuple[str, ...] = ()

    def fields(self, language: str = "en") -> set[tuple[str, str, str | None]]:
        """The template's fields in ``language``: (name, format spec, conversion)."""
        text = self.en if language == "en" else self.zh_TW
        return {(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None}


def _simplified() -> dict[str, str]:
    try:
        from ._zh_CN import SIMPLIFIED
    except ImportError:  # before the first ``editions write``
        return {}
    return SIMPLIFIED


def template(wording: Wording, language: str) -> str:
    """The template of ``wording`` in ``language`` (``en``, ``zh_TW`` or ``zh_CN``); the English where the derived
    Simplified template is missing (``editions write`` has not run since the Traditional one changed)."""
    if language == "en":
        return wording.en
    if language == "zh_TW":
        return wording.zh_TW
    return _simplified().get(wording.zh_TW, wording.en)


def _version(value, language: str):
    """``value`` as ``language`` shows it: a :class:`Said`'s version (its English where it has none)."""
    if not isinstance(value, Said):
        return value
    return value.versions.get(language) or str(value)


def say(wording: Wording, **values) -> Said:
    """``wording`` filled with ``values`` in every edition's words; a :class:`Said` value gives each its own."""

    def fill(language: str) -> str:
        return template(wording, language).format(**{key: _version(v, language) for key, v in values.items()})

    return Said(fill("en"), **{language: fill(language) for language in GLUE_LANGUAGES})


def join(items, separator: Wording | None = None) -> Said:
    """``items`` (sentences or names, :class:`Said` or not) joined in every edition: ", " in English, "、" in
    Chinese, unless ``separator`` gives other words."""
    separator = separator or LIST
    items = list(items)
    parts = {
        language: template(separator, language).join(str(_version(item, language)) for item in items)
        for language in ("en", *GLUE_LANGUAGES)
    }
    return Said(parts.pop("en"), **parts)


LIST = Wording(", ", "、")


def wordings() -> dict[str, Wording]:
    """Every :class:`Wording` of the chapters' modules, by ``module.NAME`` (``ch06.WITHIN``)."""
    found = {"LIST": LIST}
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for name, value in vars(loaded).items():
            if isinstance(value, Wording):
                found[f"{module.name}.{name}"] = value
            elif isinstance(value, dict) and value and all(isinstance(v, Wording) for v in value.values()):
                found.update({f"{module.name}.{name}[{key!r}]": v for key, v in value.items()})
    return found
