"""One spelling per mailbox: the canonical form every e-mail address is stored, found and
rate-limited in.

`Alice+seats@WUSTL.edu`, `alice@wustl.edu` and the same with a full-width `a` reach one
mailbox, so they must name one account and count against one limit. The canonical form is
the address after Unicode NFKC normalisation and case folding (what Unicode calls
NFKC_Casefold: full-width and compatibility look-alikes such as the long s, U+017F, become
their ASCII letter), stripped, with the local part's `+tag` dropped: WashU's mail system,
like most, delivers `alice+anything@` to `alice@`.

What normalisation does not map (the dotless i, U+0131; Cyrillic letters) stays as it is,
and so never equals an ASCII address: accounts are found by exact match on this form, never
by a case-insensitive comparison in the database (PostgreSQL's UPPER of the dotless i is
'I', which once let a dotless `ivan@` log in as `ivan@`). Sign-up also refuses any non-ASCII
input at the school's domains (users.school_email).
"""

import unicodedata


def email_canonical(address: str) -> str:
    text = unicodedata.normalize("NFKC", address)
    text = unicodedata.normalize("NFKC", text.casefold()).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return text
    untagged = local.split("+", 1)[0]
    return f"{untagged or local}@{domain}"
