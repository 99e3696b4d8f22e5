"""Forms of the organizer pages. Rules live in events.services; these only parse input."""

from typing import Any

from django import forms

from orgs.models import Organization

from . import permissions
from .models import (
    NO_SHOW_GRACE_DEFAULT_MINUTES,
    NO_SHOW_GRACE_MAX_MINUTES,
    EventPost,
    OrganizerMessage,
)
from .places import CAMPUS_PLACES
from .services import (
    CANCELLATION_REASON_MAX_LENGTH,
    CAPACITY_MAX,
    DESCRIPTION_MAX_LENGTH,
    EVENT_EDITABLE_FIELDS,
    Position,
)

# <input type="datetime-local"> sends and expects this; the times are Central (TIME_ZONE).
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format=LOCAL_INPUT_FORMAT, **kwargs)


class GraceMinutesField(forms.IntegerField):
    """Minutes of grace before no-shows are released; blank means the default."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            label="Grace (minutes)",
            required=False,
            min_value=0,
            max_value=NO_SHOW_GRACE_MAX_MINUTES,
            help_text="Minutes after the start before no-shows' seats are released (blank: "
            f"{NO_SHOW_GRACE_DEFAULT_MINUTES}).",
            **kwargs,
        )

    def to_python(self, value):
        minutes = super().to_python(value)
        return NO_SHOW_GRACE_DEFAULT_MINUTES if minutes is None else minutes


class EventForm(forms.ModelForm):
    starts_at = forms.DateTimeField(
        label="Starts (Central time)",
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
    )
    ends_at = forms.DateTimeField(
        label="Ends (Central time)",
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
    )
    capacity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=CAPACITY_MAX,
        help_text="Leave blank for unlimited.",
    )
    no_show_grace_minutes = GraceMinutesField()
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Host",
        empty_label="Me (not an organization)",
        help_text="An organization you are an officer of: its officers run the event with you.",
    )
    visibility = forms.ChoiceField(
        choices=EventPost.Visibility.choices,
        required=False,
        help_text="Members only needs an organization as host.",
    )
    cohosts = forms.ModelMultipleChoiceField(
        queryset=Organization.objects.filter(status=Organization.Status.APPROVED).order_by("name"),
        required=False,
        label="Co-hosts",
        help_text="Their officers may check students in and see the roster.",
    )

    class Meta:
        model = EventPost
        fields = [*EVENT_EDITABLE_FIELDS, "cohosts"]
        labels = {"location_name": "Place", "address": "Address (optional)"}

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        hosts = {org.pk for org in permissions.organizations_hosting_for(user)} if user else set()
        if self.instance.organization_id:
            hosts.add(self.instance.organization_id)
        self.fields["organization"].queryset = Organization.objects.filter(  # type: ignore[attr-defined]
            pk__in=hosts
        ).order_by("name")

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        cleaned["visibility"] = cleaned.get("visibility") or EventPost.Visibility.PUBLIC
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The event must end after it starts.")
        return cleaned

    @staticmethod
    def initial_from(event: EventPost) -> dict[str, Any]:
        """The form's fields filled in from an event (to duplicate it)."""
        initial = {name: getattr(event, name) for name in EVENT_EDITABLE_FIELDS}
        initial["cohosts"] = list(event.cohosts.all())
        return initial

    def changes(self, event: EventPost) -> dict[str, Any]:
        """The submitted values, with times the form shows to the minute left as they were."""
        changes = dict(self.cleaned_data)
        changes["cohosts"] = list(changes.get("cohosts") or [])
        for name in ("starts_at", "ends_at"):
            if changes[name] == getattr(event, name).replace(second=0, microsecond=0):
                changes[name] = getattr(event, name)
        return changes

    def _post_clean(self):
        # Skip the model's own validation here: the services validate (and report back as
        # field errors) with the locked row in hand.
        pass


class CancelEventForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled? (students see this and get it by e-mail)",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=CANCELLATION_REASON_MAX_LENGTH,
    )


class OrganizerMessageForm(forms.Form):
    subject = forms.CharField(max_length=OrganizerMessage._meta.get_field("subject").max_length)
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=OrganizerMessage._meta.get_field("body").max_length,
    )


class PlaceEventForm(forms.Form):
    """Put an event on the map by hand: a campus building, or coordinates."""

    place = forms.ChoiceField(
        label="Campus building",
        required=False,
        choices=[
            ("", "—"),
            *sorted(((p.key, p.name) for p in CAMPUS_PLACES.values()), key=lambda c: c[1]),
        ],
    )
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        place = cleaned.get("place")
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if place:
            chosen = CAMPUS_PLACES[place]
            cleaned["latitude"], cleaned["longitude"] = chosen.latitude, chosen.longitude
        elif (latitude is None or longitude is None) and not self.errors:
            raise forms.ValidationError(
                "Choose a campus building, or give both latitude and longitude."
            )
        return cleaned

    def coordinates(self) -> dict[str, float]:
        return {name: self.cleaned_data[name] for name in ("latitude", "longitude")}


class CheckInSettingsForm(forms.ModelForm):
    """The attendance choices, changeable at the door (also on the event's edit form)."""

    no_show_grace_minutes = GraceMinutesField()

    class Meta:
        model = EventPost
        fields = [
            "walk_ins_beyond_capacity",
            "release_no_shows",
            "no_show_grace_minutes",
            "check_in_radius_m",
        ]

    def _post_clean(self):
        # As EventForm: the service validates with the locked row in hand.
        pass


class WalkInForm(forms.Form):
    email = forms.EmailField(max_length=254)

    @classmethod
    def email_or_none(cls, text: str) -> str | None:
        """The text as an e-mail address (lower case) when it is one, else None."""
        form = cls({"email": text})
        return form.cleaned_data["email"].lower() if "@" in text and form.is_valid() else None


class SelfCheckInForm(forms.Form):
    """The code on the screen at the door, and where the phone is when the event asks."""

    code = forms.CharField(label="Code on the screen at the door", max_length=20)
    event = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    latitude = forms.FloatField(
        required=False, min_value=-90, max_value=90, widget=forms.HiddenInput
    )
    longitude = forms.FloatField(
        required=False, min_value=-180, max_value=180, widget=forms.HiddenInput
    )
    accuracy = forms.FloatField(
        required=False, min_value=0, max_value=100_000, widget=forms.HiddenInput
    )

    def position(self) -> Position | None:
        """The phone's position, when both coordinates came."""
        data = self.cleaned_data
        if data.get("latitude") is None or data.get("longitude") is None:
            return None
        return Position(
            latitude=data["latitude"], longitude=data["longitude"], accuracy_m=data.get("accuracy")
        )
