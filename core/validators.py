"""What may be in text that people write and others read: names and free text.

Model fields carry these validators (so the admin site's forms apply them) and so do the API's
fields (`core.api.fields.NameField`, `FreeTextField`), whose schema states the same pattern.

Refused are the characters that hide, reorder or break the text around them, which nobody
means as part of a name or a note and which make a directory lie to its readers: C0 and C1
controls (ESC starts a terminal escape sequence), the bidirectional marks, embeddings,
overrides and isolates (U+202E turns what follows around), the invisible ones (zero-width
space, word joiner, invisible operators, the byte order mark, the soft hyphen, the deprecated
format characters, interlinear annotations), and the line and paragraph separators. Free text
keeps tab, line feed and carriage return. The other format characters (Unicode category Cf)
are part of how some scripts are written and stay: the zero-width non-joiner and joiner
(Persian, Indic scripts, emoji sequences), the Arabic and Syriac number and end-of-verse
signs, and those beyond the Basic Multilingual Plane (Egyptian hieroglyph controls, the tag
characters of subdivision flags).

Written as code point escapes that Python, ECMA-262 (the schema's dialect) and Rust's regex
(the schema tooling's) read alike.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_CONTROLS = r"\u0000-\u001F\u007F-\u009F"  # C0 and C1
_CONTROLS_BUT_TAB_AND_LINE_BREAKS = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F"
_HIDING_OR_REORDERING = (
    r"\u00AD"  # soft hyphen
    r"\u061C\u200E\u200F"  # Arabic letter mark, left-to-right and right-to-left marks
    r"\u202A-\u202E\u2066-\u2069"  # embeddings, overrides, isolates
    r"\u180E\u200B\u2060-\u2064\uFEFF"  # invisible separators, joiners, operators; BOM
    r"\u206A-\u206F"  # deprecated format characters
    r"\u2028\u2029"  # line and paragraph separators
    r"\uFFF9-\uFFFB"  # interlinear annotation
)

# What a name, or free text, may not contain: one refused character is enough.
NAME_REFUSED = f"[{_CONTROLS}{_HIDING_OR_REORDERING}]"
FREE_TEXT_REFUSED = f"[{_CONTROLS_BUT_TAB_AND_LINE_BREAKS}{_HIDING_OR_REORDERING}]"


class RefusedCharactersValidator:
    """Refuses a text holding any character of `refused` (a character class). The schema
    states the same class as the field's `not: {pattern}` (core.openapi.strict_input); the
    class includes NUL, which DRF refuses in every string anyway."""

    refused: str
    code = "control_characters"
    message: str

    def __init__(self) -> None:
        self._refused = re.compile(self.refused)

    def __call__(self, value: str) -> None:
        if self._refused.search(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


@deconstructible(path="core.validators.NameCharactersValidator")
class NameCharactersValidator(RefusedCharactersValidator):
    """A name (of a person, a specialization): no control, invisible or reordering character,
    nor a line break or tab."""

    refused = NAME_REFUSED
    message = (
        "Remove the control and formatting characters (terminal escapes, direction overrides, "
        "invisible characters, tabs and line breaks)."
    )


@deconstructible(path="core.validators.FreeTextCharactersValidator")
class FreeTextCharactersValidator(RefusedCharactersValidator):
    """Free text (a biography): lines and tabs as written, but no control, invisible or
    reordering character."""

    refused = FREE_TEXT_REFUSED
    message = (
        "Remove the control and formatting characters (terminal escapes, direction overrides, "
        "invisible characters); tabs and line breaks may stay."
    )
