"""Who may see the leaderboard: signed-in accounts with a confirmed WashU address.

Students are shown by pseudonym unless they opt in to their name (users.models), and even
pseudonyms and points are for the campus only: not for search engines or anyone passing by.
The page and the API both ask here.
"""

from events.errors import EmailUnverified, NotAuthenticated
from users.selectors import user_has_verified_school_email


def leaderboard_check_viewer(*, user) -> None:
    if not user.is_authenticated:
        raise NotAuthenticated("Log in with your WashU account to see the leaderboard.")
    if not user_has_verified_school_email(user=user):
        raise EmailUnverified("Confirm your school e-mail address to see the leaderboard.")
