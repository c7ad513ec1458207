"""The library's refusals and failures, said so the app can put them in the reader's language.

Such an error carries its reason as a :class:`~lwviz.i18n.Phrase`: the catalog message (English, the
message id, marked with ``N_`` where it is raised) and the parameters that fill its ``{fields}``. ``str()``
of it is the English sentence (the CLI and logs read that); the UI says the phrase in the reader's language
(lwviz.ui.language.error_text). Parameters are numbers, names and file names, the system's or a library's
own error text (which has no translation; quoted as a detail), a nested error, or a ``Phrase`` of their own
(a mode's name): never loose words, so every word of lwviz's sentences is in the catalog.
"""

from __future__ import annotations

from lwviz.i18n import Phrase


class PhrasedError(Exception):
    """An error whose reason is a catalog message and its parameters (or a ready :class:`Phrase`): weights or a
    dataset that are not here, an export that failed, and every :class:`Refusal`."""

    def __init__(self, message: str, /, **params) -> None:
        if isinstance(message, Phrase) and not params:
            self.phrase = message
        else:
            nested = {k: v.phrase if isinstance(v, PhrasedError) else v for k, v in params.items()}
            self.phrase = Phrase(message, **nested)
        super().__init__(str(self.phrase))


class Refusal(PhrasedError, ValueError):
    """An input lwviz will not use, with the reason as a catalog message and its parameters."""
