"""Which e-mail addresses belong to the school: the rule behind sign-up and registration."""

from django.conf import settings


def school_email_domain(email: str) -> str | None:
    """The address's domain when it is one of SIGNUP_EMAIL_DOMAINS, else None.

    Exact match after lower-casing: `wustl.edu.evil.com`, `cs.wustl.edu` (unless listed), a
    trailing dot, and any non-ASCII character (Cyrillic or full-width look-alikes, raw IDN)
    are refused. Punycode (`xn--…`) never equals a listed ASCII domain, so it is refused too.
    """
    if not email.isascii() or email.count("@") != 1:
        return None
    domain = email.rsplit("@", 1)[1].lower()
    allowed = {allowed.lower() for allowed in settings.SIGNUP_EMAIL_DOMAINS}
    return domain if domain in allowed else None


def school_email_is_allowed(email: str) -> bool:
    return school_email_domain(email) is not None


def school_email_domains_display() -> str:
    """`@wustl.edu` or `@wustl.edu or @slu.edu`, for messages."""
    return " or ".join(f"@{domain.lower()}" for domain in settings.SIGNUP_EMAIL_DOMAINS)
