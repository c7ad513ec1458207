"""The library's refusals, said so the app can put them in the reader's language.

A refusal carries its catalog message (English, the message id, marked with ``N_`` where it is raised)
and the parameters that fill its ``{fields}``: ``str()`` of it is the English sentence (the CLI and logs
read that), and the UI shows ``_(message, **params)`` (lwviz.ui.language.error_text). Parameters are
numbers, names and file names, a nested refusal, or a :class:`Term` (a catalog message, such as a mode's
name): never loose words, so every word of a sentence is in the catalog.
"""

from __future__ import annotations

from lwviz.i18n import english


class Refusal(ValueError):
    """An input lwviz will not use, with the reason as a catalog message and its parameters."""

    def __init__(self, message: str, /, **params) -> None:
        super().__init__(english(message, **params))
        self.message, self.params = message, params


class Term(str):
    """A parameter that is itself a catalog message (a mode's name): said in the reader's language with its sentence."""
