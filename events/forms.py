"""Forms of the organizer pages. Rules live in events.services; these only parse input."""

import datetime as dt
from typing import Any

from django import forms

from orgs.models import Organization

from . import permissions
from .access import feature_choices_explained
from .images import IMAGE_MAX_BYTES
from .models import (
    GUESTS_MAX,
    NO_SHOW_GRACE_DEFAULT_MINUTES,
    NO_SHOW_GRACE_MAX_MINUTES,
    EventPost,
    EventQuestion,
    EventSeries,
    OrganizerMessage,
)
from .places import CAMPUS_PLACES
from .services import (
    CANCELLATION_REASON_MAX_LENGTH,
    CAPACITY_MAX,
    DESCRIPTION_MAX_LENGTH,
    EVENT_EDITABLE_FIELDS,
    SERIES_OCCURRENCES_MAX,
    WEEKDAY_NAMES,
    Position,
    question_field_name,
)

# <input type="datetime-local"> sends and expects this; the times are Central (TIME_ZONE).
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


# The event's times the form shows to the minute.
_TIME_FIELDS = (
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
)


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
    registration_opens_at = forms.DateTimeField(
        label="Registration opens (Central time)",
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
        help_text="Blank: as soon as it is published.",
    )
    registration_closes_at = forms.DateTimeField(
        label="Registration closes (Central time)",
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
        help_text="Blank: when the event starts.",
    )
    cancellation_deadline = forms.DateTimeField(
        label="Students may cancel until (Central time)",
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
        help_text="Blank: while registration is open.",
    )
    guests_max = forms.IntegerField(
        label="Guests per registration",
        required=False,
        min_value=0,
        max_value=GUESTS_MAX,
        help_text=f"How many guests a student may bring (0 to {GUESTS_MAX}); guests take seats.",
    )

    mode = forms.ChoiceField(
        label="Where", choices=EventPost.Mode.choices, required=False, initial="in_person"
    )
    join_url = forms.URLField(
        label="Join link (online and hybrid)",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Only students with a confirmed seat see it: on the event page, in their "
        "confirmation e-mail and calendar file.",
    )
    # A checkbox left out of a post means "off": asked the other way round, so that a form
    # that does not know about it keeps registration on.
    drop_in = forms.BooleanField(
        label="No registration needed (drop-in event)",
        required=False,
        help_text="Students just come; they still check in at the door or with the event code "
        "for their E-score.",
    )

    access_features = forms.MultipleChoiceField(
        label="Accessibility",
        choices=feature_choices_explained,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick only what you have arranged: students plan around it. Students who "
        "saved a need see matching events first in “For you” and can filter search by it.",
    )

    class Meta:
        model = EventPost
        fields = [
            *(name for name in EVENT_EDITABLE_FIELDS if name != "registration_required"),
            "cohosts",
        ]
        labels = {"location_name": "Place", "address": "Address (optional)"}

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        hosts = {org.pk for org in permissions.organizations_hosting_for(user)} if user else set()
        if self.instance.organization_id:
            hosts.add(self.instance.organization_id)
        self.fields["organization"].queryset = Organization.objects.filter(  # type: ignore[attr-defined]
            pk__in=hosts
        ).order_by("name")
        if self.instance.pk and not self.instance.registration_required:
            self.initial["drop_in"] = True

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        cleaned["visibility"] = cleaned.get("visibility") or EventPost.Visibility.PUBLIC
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The event must end after it starts.")
        cleaned["registration_required"] = not cleaned.pop("drop_in", False)
        if not cleaned.get("mode") and "mode" not in self.errors:
            cleaned["mode"] = EventPost.Mode.IN_PERSON
        if cleaned.get("guests_max") is None and "guests_max" not in self.errors:
            cleaned["guests_max"] = 0
        opens, closes = cleaned.get("registration_opens_at"), cleaned.get("registration_closes_at")
        if opens and closes and closes <= opens:
            self.add_error("registration_closes_at", "Registration must close after it opens.")
        return cleaned

    @staticmethod
    def initial_from(event: EventPost) -> dict[str, Any]:
        """The form's fields filled in from an event (to duplicate it)."""
        initial = {name: getattr(event, name) for name in EVENT_EDITABLE_FIELDS}
        initial["cohosts"] = list(event.cohosts.all())
        initial["drop_in"] = not event.registration_required
        return initial

    def changes(self, event: EventPost) -> dict[str, Any]:
        """The submitted values, with times the form shows to the minute left as they were."""
        changes = dict(self.cleaned_data)
        changes["cohosts"] = list(changes.get("cohosts") or [])
        for name in _TIME_FIELDS:
            before = getattr(event, name)
            if before is not None and changes[name] == before.replace(second=0, microsecond=0):
                changes[name] = before
        return changes

    def _post_clean(self):
        # Skip the model's own validation here: the services validate (and report back as
        # field errors) with the locked row in hand.
        pass


SCOPE_THIS, SCOPE_FOLLOWING = "this", "following"


class SeriesEventForm(EventForm):
    """The new-event form, with "repeat": weekly on weekdays until a date, or on dates."""

    repeat = forms.ChoiceField(
        label="Repeat",
        required=False,
        choices=[("", "Does not repeat"), *EventSeries.Rule.choices],
    )
    weekdays = forms.TypedMultipleChoiceField(
        label="On",
        required=False,
        coerce=int,
        choices=list(enumerate(WEEKDAY_NAMES)),
        widget=forms.CheckboxSelectMultiple,
    )
    repeat_until = forms.DateField(
        label="Until (last date)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    repeat_dates = forms.CharField(
        label="Dates (one per line, YYYY-MM-DD)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20_000,
        help_text=f"Each occurrence is its own event; at most {SERIES_OCCURRENCES_MAX}.",
    )

    def clean_repeat_dates(self) -> list[dt.date]:
        days = []
        for line in self.cleaned_data["repeat_dates"].split():
            try:
                days.append(dt.date.fromisoformat(line.strip().rstrip(",")))
            except ValueError:
                raise forms.ValidationError(f"“{line[:20]}” is not a date (YYYY-MM-DD).") from None
        return days

    _SERIES_FIELDS = ("repeat", "weekdays", "repeat_until", "repeat_dates")

    def series_data(self) -> dict[str, Any] | None:
        """Keyword arguments of services.series_create's rule, or None for one event."""
        data = self.cleaned_data
        if not data.get("repeat"):
            return None
        return {
            "rule": data["repeat"],
            "weekdays": data.get("weekdays") or [],
            "until": data.get("repeat_until"),
            "dates": data.get("repeat_dates") or [],
        }

    def event_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in self._SERIES_FIELDS}


class ScopeForm(forms.Form):
    scope = forms.ChoiceField(
        label="Apply to",
        choices=[(SCOPE_THIS, "This event only"), (SCOPE_FOLLOWING, "This and all following")],
        initial=SCOPE_THIS,
        required=False,
    )


class CoverImageForm(forms.Form):
    """The file is checked by events.images (content, not name); this only receives it."""

    image = forms.FileField(
        label="Picture (JPEG, PNG, WebP or GIF, up to 5 MB)",
        allow_empty_file=True,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
    )
    alt = forms.CharField(
        label="Describe the picture (alt text)",
        max_length=250,
        help_text="Read aloud to students who use a screen reader.",
    )
    following = forms.BooleanField(
        label="Also on the following events of this series", required=False
    )

    def image_data(self) -> dict[str, Any]:
        upload = self.cleaned_data["image"]
        return {
            "data": upload.read(IMAGE_MAX_BYTES + 1),
            "alt": self.cleaned_data["alt"],
            "following": self.cleaned_data.get("following", False),
        }


class RegistrationForm(forms.Form):
    """What a student tells when registering: their guests (when the event takes any) and
    the answers to the organizer's questions (checked again by the service)."""

    def __init__(self, *args, event: EventPost, questions: list[EventQuestion], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        if event.guests_max:
            self.fields["guests"] = forms.IntegerField(
                label=f"Guests (up to {event.guests_max})",
                min_value=0,
                max_value=event.guests_max,
                required=False,
                initial=0,
            )
        for question in questions:
            self.fields[question_field_name(question)] = _answer_field(question)

    def registration_data(self) -> dict[str, Any]:
        """Keyword arguments for services.registration_create."""
        return {
            "guests": self.cleaned_data.get("guests") or 0,
            "answers": {
                str(question.pk): self.cleaned_data.get(question_field_name(question)) or ""
                for question in self.questions
            },
        }


def _answer_field(question: EventQuestion) -> forms.Field:
    label = question.label if question.required else f"{question.label} (optional)"
    if question.kind == EventQuestion.Kind.TEXT:
        return forms.CharField(label=label, required=question.required, max_length=500)
    if question.kind == EventQuestion.Kind.YES_NO:
        options = [("yes", "Yes"), ("no", "No")]
    else:
        options = [(choice, choice) for choice in question.choices]
    if not question.required:
        options = [("", "—"), *options]
    return forms.ChoiceField(label=label, required=question.required, choices=options)


class QuestionForm(forms.Form):
    """A question of the organizer's own; presets are buttons on the same page."""

    label = forms.CharField(label="Question", max_length=200)
    kind = forms.ChoiceField(label="Answer", choices=EventQuestion.Kind.choices)
    choices = forms.CharField(
        label="Options (choice only, one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2500,
    )
    required = forms.BooleanField(label="Required", required=False)
    following = forms.BooleanField(
        label="Also on the following events of this series", required=False
    )

    def question_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("following", None)
        data["choices"] = data["choices"].splitlines()
        return data


class DuplicateEventForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="The copy starts (Central time)",
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
        help_text="Its end, registration window and cancellation deadline move by as much.",
    )


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

    access_features = forms.MultipleChoiceField(
        label="Accessibility",
        choices=feature_choices_explained,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick only what you have arranged: students plan around it. Students who "
        "saved a need see matching events first in “For you” and can filter search by it.",
    )

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
