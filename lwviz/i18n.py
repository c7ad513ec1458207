"""Every word a person reads, in Simplified Chinese and English: gettext catalogs, shipped in the package.

The English text is the message id; ``lwviz/locale/zh/LC_MESSAGES/lwviz.po`` holds its Chinese, and
the compiled ``.mo`` beside it is what runs (Python's own ``gettext``: nothing to install). The
catalogs are managed with Babel (``python -m lwviz.i18n`` extracts, updates and compiles them);
terms follow docs/GLOSSARY.md. No Streamlit here: the UI picks the language (lwviz.ui.language).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable, Sequence
from pathlib import Path

DOMAIN = "lwviz"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"zh": "中文", "en": "English"}  # code -> the language's own name
DEFAULT_LANGUAGE = "en"

# ``_(message, **params)``: ``message`` in one language with its ``{name}`` fields filled. Figure builders and
# other code that shows words take one (default :data:`english`), so they stay free of the session.
Translate = Callable[..., str]


def N_(message: str) -> str:
    """Mark ``message`` for the catalog where it is defined; it is translated where it is shown."""
    return message


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang``; English, the source language, is the message ids themselves."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang: unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


@functools.cache
def translator(lang: str) -> Translate:
    """The :data:`Translate` function of ``lang``."""
    gettext = translations(lang).gettext

    def _(message: str, /, **params) -> str:
        text = gettext(message) if message else message  # gettext("") is the catalog's header
        return text.format(**params) if params else text

    return _


def english(message: str, /, **params) -> str:
    """The :data:`Translate` function of the source language: the message itself, its fields filled."""
    return message.format(**params) if params else message


class Phrase(str):
    """Words that read as English (the string itself) and remember their catalog message and parameters, so a
    page or figure can say them in the reader's language (:func:`said`): the block families' diagram words, the
    Zoo's lessons, notes kept to be shown later, and the reasons of lwviz's refusals (lwviz.errors).

    ``Phrase("expand {ratio}×", ratio="6")`` is the string ``"expand 6×"``; the extraction takes ``Phrase``'s
    first argument as a message, like ``N_``'s.
    """

    message: str
    params: dict

    def __new__(cls, message: str, /, **params) -> Phrase:
        self = super().__new__(cls, english(message, **params))
        self.message, self.params = message, params
        return self


def said(text: str, _: Translate) -> str:
    """``text`` in ``_``'s language: a :class:`Phrase` with its parameters said too, or a catalog message."""
    if isinstance(text, Phrase):
        return _(text.message, **{k: said(v, _) if isinstance(v, Phrase) else v for k, v in text.params.items()})
    return _(text)


def listed(phrases: Sequence[str]) -> str:
    """Several phrases as one, separated as the language separates clauses (``a; b``, in Chinese ``a；b``)."""
    joined, *rest = phrases
    for phrase in rest:
        joined = Phrase("{first}; {then}", first=joined, then=phrase)
    return joined


def language_of(tag: str | None) -> str | None:
    """The app's language for a browser or URL language tag (``zh-CN``, ``zh-Hans``, ``en-US``, ``zh``), or None."""
    if not tag:
        return None
    code = tag.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def main() -> None:
    """Extract every marked message into the template, merge it into each catalog, compile the catalogs.

    Run after changing any text the app shows (needs Babel: ``pip install babel``); then translate the new
    entries in the ``.po`` file (a test fails while any is untranslated) and run it again to compile.
    """
    import subprocess
    import sys

    root, template = LOCALE_DIR.parent.parent, LOCALE_DIR / f"{DOMAIN}.pot"
    babel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run(
        [*babel, "extract", "-F", str(root / "babel.cfg"), "-k", "_", "-k", "N_", "-k", "Phrase", "--no-location",
         "--sort-output",
         "--project", DOMAIN, "-o", str(template), str(root)],
        check=True,
    )  # fmt: skip
    for lang in LANGUAGES.keys() - {DEFAULT_LANGUAGE}:
        catalog = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        action = "update" if catalog.exists() else "init"
        subprocess.run(
            [*babel, action, "-D", DOMAIN, "-i", str(template), "-d", str(LOCALE_DIR), "-l", lang], check=True
        )
    subprocess.run([*babel, "compile", "-D", DOMAIN, "-d", str(LOCALE_DIR), "--statistics"], check=True)


if __name__ == "__main__":
    main()
