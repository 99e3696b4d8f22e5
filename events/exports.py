"""The roster as CSV, safe to open in a spreadsheet."""

import csv
import io
from collections.abc import Sequence

from core import clock

from .models import EventQuestion, EventRegistration

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (`=cmd|' /C calc'!A0`, `+1+1`, `@SUM(…)`), also after a tab or carriage return.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """The value as text that a spreadsheet shows as text, never runs as a formula (OWASP)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _local(moment) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def roster_csv(
    registrations: list[EventRegistration], questions: Sequence[EventQuestion] = ()
) -> str:
    """One row per registration; a column per question (its answers prefetched)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "name",
            "email",
            "status",
            "registered_at",
            "checked_in_at",
            # New columns go last: spreadsheets built on the first five keep working.
            "guests",
            *(csv_safe(question.label) for question in questions),
        ]
    )
    for registration in registrations:
        answers = {answer.question_id: answer.value for answer in registration.answers.all()}
        writer.writerow(
            [
                csv_safe(registration.user.get_full_name()),
                csv_safe(registration.user.email),
                registration.status,
                _local(registration.registered_at),
                _local(registration.checked_in_at),
                registration.guests,
                *(csv_safe(answers.get(question.pk, "")) for question in questions),
            ]
        )
    return buffer.getvalue()
