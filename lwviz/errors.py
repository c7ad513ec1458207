"""The library's refusals, said so the app can put them in the reader's language.

A refusal carries its reason as a :class:`~lwviz.i18n.Phrase`: the catalog message (English, the message
id, marked with ``N_`` where it is raised) and the parameters that fill its ``{fields}``. ``str()`` of it
is the English sentence (the CLI and logs read that); the UI says the phrase in the reader's language
(lwviz.ui.language.error_text). Parameters are numbers, names and file names, a nested refusal, or a
``Phrase`` of their own (a mode's name): never loose words, so every word of a sentence is in the catalog.
"""

from __future__ import annotations

from lwviz.i18n import Phrase


class Refusal(ValueError):
    """An input lwviz will not use, with the reason as a catalog message and its parameters."""

    def __init__(self, message: str, /, **params) -> None:
        self.phrase = Phrase(message, **{k: v.phrase if isinstance(v, Refusal) else v for k, v in params.items()})
        super().__init__(str(self.phrase))
