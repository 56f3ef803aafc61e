"""The Nothing lost cases tried at more than one layer (core, CLI, window).

A case's tests share one marker, so the table in docs/nothing-lost.md shows it once with every
test that tries it: ``@case(NFD_NAME)`` or ``pytest.param(..., marks=case(NFD_NAME))``.
"""

from __future__ import annotations

import pytest

Case = tuple[str, str, str]

NFD_NAME: Case = ("bad input", "filename in NFD unicode", "works; stored and shown as NFC")
EMOJI_NAME: Case = ("bad input", "filename with emoji (ZWJ sequences)", "works")
RTL_NAME: Case = ("bad input", "filename in right-to-left scripts", "works")
LEADING_DOT: Case = (
    "bad input",
    "filename with a leading dot",
    "stored as is; downloaded without the dot (never a hidden file)",
)
RESERVED_NAME: Case = (
    "bad input",
    "Windows reserved names (CON, aux.txt)",
    "stored as is; downloaded as _CON, _aux.txt",
)
TRAILING_DOTS: Case = (
    "bad input",
    "filename with trailing dots and spaces",
    "stored as is; downloaded without them",
)
CONTROL_NAME: Case = (
    "bad input",
    "filename with a control character",
    "one line naming U+0007 (exit 3); nothing stored",
)
NUL_NAME: Case = (
    "bad input",
    "filename with NUL",
    "one line naming U+0000 (exit 3); nothing stored",
)
LONG_NAME: Case = (
    "bad input",
    "filename over 255 UTF-8 bytes",
    "says how long, the limit is 255 (exit 3); nothing stored",
)
DOTDOT_NAME: Case = (
    "bad input",
    "filename '..' or with '/' or '\\'",
    "refused (exit 3); nothing stored",
)
EMPTY_TAG: Case = ("bad input", "an empty tag", "'A tag is empty' (exit 3); nothing stored")
LONG_TAG: Case = (
    "bad input",
    "a tag of 65 characters",
    "'the limit is 64' (exit 3); nothing stored",
)
MANY_TAGS: Case = ("bad input", "51 tags", "'at most 50 tags' (exit 3); nothing stored")
CASE_DUPLICATE_TAGS: Case = (
    "bad input",
    "tags duplicated in another case ('Tax', 'TAX', ' tax ')",
    "kept once, first spelling; filters match any case",
)
EMPTY_FILE: Case = (
    "bad input",
    "a file of 0 bytes",
    "works: stored, listed and downloaded as 0 bytes",
)
UNREADABLE_FILE: Case = (
    "bad input",
    "upload of a file without read permission (really unreadable, also as root)",
    "'… cannot be read (permission denied)' (exit 12); nothing stored",
)
SYMLINK_LOOPS: Case = (
    "bad input",
    "a folder with symlink loops (to an ancestor, to itself, a -> b -> a)",
    "works: its real files are uploaded once each; loops are not followed",
)
ESCAPING_NAME: Case = (
    "bad input",
    "download of a stored name that tries to escape ('../../escape.txt', written behind the "
    "app's back)",
    "'stored metadata … is damaged' (exit 9); nothing written anywhere",
)
EXISTING_TARGET: Case = (
    "bad input",
    "download to a name that exists already",
    "'… already exists' (exit 3); the file is untouched until overwriting is asked for",
)
CHANGED_BEHIND_BACK: Case = (
    "integrity",
    "body replaced on the server behind the app's back",
    "'does not match its checksum … Nothing was written' (exit 9); the user's file is untouched",
)


def case(*which: str | Case) -> pytest.MarkDecorator:
    """The nothing_lost marker of a shared case, or of (area, case, outcome) given here."""
    arguments = which[0] if len(which) == 1 and isinstance(which[0], tuple) else which
    return pytest.mark.nothing_lost(*arguments)
