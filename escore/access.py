"""Who may see the leaderboard, and who may open the list of disputes to decide.

The leaderboard: signed-in accounts with a confirmed WashU address. Students are shown by
pseudonym unless they opt in to their name (users.models), and even pseudonyms and points
are for the campus only: not for search engines or anyone passing by.
Disputes: staff, organizers and officers who run events for an organization; each dispute
is then decided only by those who may check students in to its event (events.permissions).
The pages and the API both ask here.
"""

from events import permissions
from events.errors import EmailUnverified, NotAuthenticated
from users.selectors import user_has_verified_school_email


def leaderboard_check_viewer(*, user) -> None:
    if not user.is_authenticated:
        raise NotAuthenticated("Log in with your WashU account to see the leaderboard.")
    if not user_has_verified_school_email(user=user):
        raise EmailUnverified("Confirm your school e-mail address to see the leaderboard.")


def disputes_check_decider(*, user) -> None:
    """Raise (NotAuthenticated, ActionForbidden) unless the user may list disputes to decide."""
    if permissions.user_is_staff(user) or (
        user.is_authenticated and permissions.organizations_hosting_for(user)
    ):
        return
    permissions.event_check_create(user=user)
