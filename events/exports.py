"""The roster as CSV, safe to open in a spreadsheet."""

import csv
import io

from core import clock

from .models import EventRegistration

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


def roster_csv(registrations: list[EventRegistration]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "status", "registered_at", "checked_in_at"])
    for registration in registrations:
        writer.writerow(
            [
                csv_safe(registration.user.get_full_name()),
                csv_safe(registration.user.email),
                registration.status,
                _local(registration.registered_at),
                _local(registration.checked_in_at),
            ]
        )
    return buffer.getvalue()
