"""The E-score rules: every number and every condition that decides points lives here.

- **Attended** an event (checked in): +10.
- **Breadth bonus**: +5 for each category, held by the student's earliest-starting event in
  that category that currently has attendance points. Undoing that check-in moves the
  bonus to the next such event (or reverses it when there is none), so a student has at
  most one bonus per category and the result depends only on the current check-ins, not
  on the order in which tasks happened to run.
- **Organized** an event that took place (published, ended) with at least 3 checked-in
  attendees: +20, plus +1 per checked-in attendee up to +20. Counted once, when the event
  ended `ORGANIZER_AWARD_AFTER` ago (after check-in has closed), and final after that:
  a later undo by staff moves the attendee's points, not the organizer's.
- Undoing a check-in appends compensating entries (`attended_reversed`,
  `new_category_reversed`); the ledger is never edited. Checking in again starts a new
  generation (see `ScoreEntry`).

Change a number here and `manage.py rebuild_leaderboards` is all that is needed: the
ledger keeps the points each entry was worth when it was granted.
"""

import datetime as dt

ATTENDED_POINTS = 10
NEW_CATEGORY_POINTS = 5

ORGANIZED_MIN_ATTENDEES = 3
ORGANIZED_BASE_POINTS = 20
ORGANIZED_POINTS_PER_ATTENDEE = 1
ORGANIZED_ATTENDEE_POINTS_CAP = 20

# The organizer award waits this long after an event ends, then counts who was checked in:
# until check-in closes (events.models.CHECK_IN_CLOSES_AFTER, 6 hours after the end) the
# count can still grow. A test keeps the two in step.
ORGANIZER_AWARD_AFTER = dt.timedelta(hours=7)
# The sweep looks this far back, so an outage of the beat process delays awards, never loses them.
ORGANIZER_AWARD_LOOKBACK = dt.timedelta(days=7)


def organizer_points(*, checked_in_attendees: int) -> int:
    """Points for organizing an event that took place; 0 when too few attended."""
    if checked_in_attendees < ORGANIZED_MIN_ATTENDEES:
        return 0
    bonus = min(checked_in_attendees * ORGANIZED_POINTS_PER_ATTENDEE, ORGANIZED_ATTENDEE_POINTS_CAP)
    return ORGANIZED_BASE_POINTS + bonus
