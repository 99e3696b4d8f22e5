import pytest

from users.school_email import school_email_domain, school_email_domains_display


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("bear@wustl.edu", "wustl.edu"),
        ("Bear@WUSTL.EDU", "wustl.edu"),
        ("bear@wustl.edu.evil.com", None),
        ("bear@evil.com@wustl.edu", None),
        ("bear@cs.wustl.edu", None),
        ("bear@wustl.edu ", None),
        ("bear@wustl.\u0435du", None),
        ("bear", None),
        ("", None),
    ],
)
def test_school_domain_is_an_exact_ascii_match(email, domain):
    assert school_email_domain(email) == domain


def test_configured_domains_are_compared_without_case(settings):
    settings.SIGNUP_EMAIL_DOMAINS = ["WUSTL.edu", "slu.edu"]
    assert school_email_domain("bear@wustl.EDU") == "wustl.edu"
    assert school_email_domain("billiken@slu.edu") == "slu.edu"
    assert school_email_domains_display() == "@wustl.edu or @slu.edu"
