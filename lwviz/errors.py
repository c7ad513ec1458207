"""The library's refusals, said so the app can put them in the reader's language.

A refusal carries its catalog message (English, the message id, marked with ``N_`` where it is raised)
and the parameters that fill its ``{fields}``: ``str()`` of it is the English sentence (the CLI and logs
read that), and the UI shows ``_(message, **params)`` (lwviz.ui.language.error_text). Parameters are
numbers, names and file names, never words of their own, so every word of a sentence stays in one message.
"""

from __future__ import annotations

from lwviz.i18n import english


class Refusal(ValueError):
    """An input lwviz will not use, with the reason as a catalog message and its parameters."""

    def __init__(self, message: str, /, **params) -> None:
        super().__init__(english(message, **params))
        self.message, self.params = message, params
