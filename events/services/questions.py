"""Questions the organizer asks at registration, and the answers students give.

Answers are checked here, once, for the page and the API alike: required questions are
answered, a choice is one of the options, yes/no is "yes" or "no". They are saved in the
registration's transaction and deleted when it is cancelled or deleted (they may be health
data: dietary and accessibility needs).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Max

from events import permissions
from events.errors import EventInvalid
from events.models import EventQuestion, EventRegistration, RegistrationAnswer
from users.models import User

from .locking import event_locked

Kind = EventQuestion.Kind

QUESTIONS_MAX = 20
CHOICES_MAX = 20
LABEL_MAX_LENGTH = 200
CHOICE_MAX_LENGTH = 100
ANSWER_MAX_LENGTH = 500
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class QuestionPreset:
    label: str
    kind: str
    choices: tuple[str, ...] = ()


PRESETS: dict[str, QuestionPreset] = {
    "dietary": QuestionPreset("Dietary needs", Kind.TEXT),
    "accessibility": QuestionPreset("Accessibility needs", Kind.TEXT),
    "tshirt": QuestionPreset("T-shirt size", Kind.CHOICE, ("XS", "S", "M", "L", "XL", "XXL")),
}


def question_field_name(question: EventQuestion) -> str:
    """The key of a question's answer in a form and in errors: `question_<id>`."""
    return f"question_{question.pk}"


def _question_validate(*, label: str, kind: str, choices: Iterable[str]) -> list[str]:
    errors: dict[str, list[str]] = {}
    options = [choice.strip() for choice in choices if choice.strip()]
    if not label:
        errors["label"] = ["Write the question."]
    elif len(label) > LABEL_MAX_LENGTH:
        errors["label"] = [f"Keep the question under {LABEL_MAX_LENGTH} characters."]
    if kind not in Kind.values:
        errors["kind"] = ["Choose short text, choice or yes/no."]
    elif kind == Kind.CHOICE:
        if len(options) < 2 or len(options) > CHOICES_MAX:
            errors["choices"] = [f"Give between 2 and {CHOICES_MAX} options."]
        elif any(len(option) > CHOICE_MAX_LENGTH for option in options):
            errors["choices"] = [f"Keep each option under {CHOICE_MAX_LENGTH} characters."]
        elif len(set(options)) != len(options):
            errors["choices"] = ["Each option once, please."]
    if errors:
        raise EventInvalid(errors)
    return options if kind == Kind.CHOICE else []


def question_add(
    *,
    event_id: int,
    by: User,
    label: str = "",
    kind: str = Kind.TEXT,
    choices: Iterable[str] = (),
    required: bool = False,
    preset: str = "",
) -> EventQuestion:
    """Add a question (or one of the PRESETS) at the end of the event's questions."""
    if preset:
        if preset not in PRESETS:
            raise EventInvalid({"preset": ["Unknown preset."]})
        chosen = PRESETS[preset]
        label, kind, choices = chosen.label, chosen.kind, chosen.choices
    label = " ".join(label.split())
    options = _question_validate(label=label, kind=kind, choices=choices)
    with event_locked(event_id=event_id) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.EDIT)
        questions = EventQuestion.objects.filter(event_id=event.pk)
        if questions.count() >= QUESTIONS_MAX:
            raise EventInvalid(
                {"__all__": [f"An event can ask at most {QUESTIONS_MAX} questions."]}
            )
        last = questions.aggregate(last=Max("position"))["last"]
        return EventQuestion.objects.create(
            event_id=event.pk,
            label=label,
            kind=kind,
            choices=options,
            required=required,
            position=0 if last is None else last + 1,
        )


def question_delete(*, event_id: int, question_id: int, by: User) -> None:
    """Remove a question; the answers already given to it go with it."""
    with event_locked(event_id=event_id) as event:
        permissions.event_check_access(user=by, event=event, action=permissions.Action.EDIT)
        EventQuestion.objects.filter(event_id=event.pk, pk=question_id).delete()


def answers_clean(
    *, questions: Iterable[EventQuestion], answers: Mapping[str, str]
) -> list[tuple[EventQuestion, str]]:
    """The answers to keep, checked against the questions; EventInvalid with every problem.

    `answers` maps a question's id (as text) to the answer; unknown ids are ignored, blank
    answers to optional questions are not stored.
    """
    cleaned: list[tuple[EventQuestion, str]] = []
    errors: dict[str, list[str]] = {}
    for question in questions:
        raw = answers.get(str(question.pk))
        value = " ".join(str(raw).split()) if raw is not None else ""
        name = question_field_name(question)
        if not value:
            if question.required:
                errors[name] = [f"Please answer: {question.label}"]
            continue
        if question.kind == Kind.YES_NO:
            value = value.lower()
            if value not in YES_NO:
                errors[name] = [f"Answer yes or no: {question.label}"]
        elif question.kind == Kind.CHOICE and value not in question.choices:
            errors[name] = [f"Choose one of the options: {question.label}"]
        elif len(value) > ANSWER_MAX_LENGTH:
            errors[name] = [f"Keep the answer under {ANSWER_MAX_LENGTH} characters."]
        cleaned.append((question, value))
    if errors:
        raise EventInvalid(errors, next(iter(errors.values()))[0])
    return cleaned


def answers_replace(
    *, registration: EventRegistration, answers: list[tuple[EventQuestion, str]], new: bool
) -> None:
    """Store the registration's answers in place of any earlier ones (none when `new`)."""
    if not new:
        RegistrationAnswer.objects.filter(registration=registration).delete()
    if answers:
        RegistrationAnswer.objects.bulk_create(
            RegistrationAnswer(registration=registration, question=question, value=value)
            for question, value in answers
        )
