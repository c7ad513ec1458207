"""The message catalog: every word the code marks is in it, translated, compiled, and shown in the chosen language."""

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from lwviz.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, Phrase, language_of, listed, said, translations, translator

ROOT = Path(__file__).parents[1]
CATALOG = LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog():
    with CATALOG.open("rb") as f:
        return {m.id: m for m in read_po(f) if m.id}


def marked_in_code() -> set[str]:
    """What ``python -m lwviz.i18n`` would extract (babel.cfg's files, the ``_``, ``N_`` and ``Phrase`` keywords)."""
    method_map = [("lwviz/**.py", "python"), ("pages/**.py", "python"), ("app.py", "python")]
    found = extract_from_dir(str(ROOT), method_map, keywords={"_": None, "N_": None, "Phrase": None})
    return {message for *_, message, _comments, _context in found if message}


def test_the_catalog_holds_exactly_what_the_code_marks():
    missing = marked_in_code() - catalog().keys()
    assert not missing, f"run `python -m lwviz.i18n` and translate: {sorted(missing)[:5]}"
    unused = catalog().keys() - marked_in_code()
    assert not unused, f"run `python -m lwviz.i18n`: no longer in the code: {sorted(unused)[:5]}"


def test_every_message_has_a_chinese_translation_with_the_same_fields():
    for message in catalog().values():
        assert message.string and not message.fuzzy, f"untranslated: {message.id!r}"
        fields = lambda text: sorted(re.findall(r"\{(\w*)[^}]*\}", text))  # noqa: E731
        assert fields(message.string) == fields(message.id), message.id
        assert ("  \n" in message.string) == ("  \n" in message.id), f"line breaks differ: {message.id!r}"


def test_the_compiled_catalog_is_the_translated_one():
    compiled = gettext.GNUTranslations((CATALOG.with_suffix(".mo")).open("rb"))
    for message in catalog().values():
        assert compiled.gettext(message.id) == message.string, f"run `python -m lwviz.i18n`: {message.id!r}"


def test_language_tags():
    assert [language_of(t) for t in ("zh-CN", "zh_Hans", "ZH", "en-US", "fr-FR", "", None)] == [
        "zh", "zh", "zh", "en", None, None, None,
    ]  # fmt: skip
    assert translations("zh").gettext("Zoo") == "模型库" and translations("en").gettext("Zoo") == "Zoo"
    with pytest.raises(ValueError, match="lang: unknown language 'fr'"):
        translations("fr")
    assert set(LANGUAGES) == {"zh", "en"}


def test_phrases_nest_and_an_empty_text_stays_empty():
    """An empty cell says nothing (gettext("") would be the catalog's header); listed clauses take the
    language's separator; a Phrase inside a Phrase is said too."""
    zh = translator("zh")
    assert zh("") == "" and said("", zh) == ""
    problems = listed([Phrase("{count} missing keys ({first})", count=2, first="a, b"), Phrase("the network")])
    assert str(problems) == "2 missing keys (a, b); the network"
    assert said(problems, zh) == "缺少 2 个键（a, b）；整个网络"
