from django import forms

from .services.disputes import NOTE_MAX


class DisputeForm(forms.Form):
    """The event (any id: `dispute_create` says why one cannot be disputed) and a note."""

    event_id = forms.IntegerField(
        label="Event",
        min_value=1,
        max_value=2**31 - 1,
        error_messages={"required": "Choose the event you attended."},
    )
    entry_id = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    note = forms.CharField(
        label="Note for the organizer (optional)",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label="Reason (needed to reject; the student reads it)",
        required=False,
        max_length=NOTE_MAX,
    )
