"""The organizer's pages: dashboard, create/edit/duplicate, roster, check-in, messages.

Check-in at the door: `door` (search the roster, one tap per student, walk-ins;
static/js/door.js), `code_screen` (the rotating event code for self check-in;
static/js/check_in_code.js), both with live counts (static/js/live_counts.js), and
`check_in_settings`.

Each view loads the event through `permissions.event_get_authorized` (or lets a service do
it) and maps the errors in one way: drafts of others and missing objects are 404, events
the user may not manage are 403, anonymous users go to the login page.
"""

import math
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property, wraps
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views import View
from django.views.decorators.http import require_POST

from core.charts import Point, line_chart
from users.requests import AuthenticatedRequest

from . import permissions, selectors, services
from .exports import roster_csv
from .forms import (
    SCOPE_FOLLOWING,
    CancelEventForm,
    CheckInSettingsForm,
    CoverImageForm,
    DuplicateEventForm,
    EventForm,
    OrganizerMessageForm,
    PlaceEventForm,
    QuestionForm,
    ScopeForm,
    SeriesEventForm,
    WalkInForm,
)
from .models import AttendanceRecord
from .permissions import Action
from .tickets import ticket_qr_svg, ticket_registration_get

T = TypeVar("T")
_NOT_FOUND = (services.EventNotFound, services.NotRegistered, services.TicketInvalid)
# Refusals an organizer can act on: shown as a message, never an error page.
_REFUSED = (
    services.EventStateConflict,
    services.CheckInClosed,
    services.EventCancelled,
    services.EventFull,
    services.NoAccount,
    services.NotEligible,
    services.RegistrationBusy,
)
_NOT_THEIR_EVENT = "Only this event's organizers can check students in. Show this code at the door."


def _access_errors_as_http(view):
    """Turn permission errors into the HTTP answers of the authorization matrix."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _NOT_FOUND as error:
            raise Http404(error.message) from error
        except services.NotAuthenticated:
            return redirect_to_login(request.get_full_path())
        except services.ActionForbidden as error:
            raise PermissionDenied(error.message) from error

    return login_required(wrapper)


def _manage_url(event_id: int) -> str:
    return reverse("events:manage", kwargs={"pk": event_id})


def _door_url(event_id: int) -> str:
    return reverse("events:door", kwargs={"pk": event_id})


def _back_to(request: HttpRequest, event_id: int) -> str:
    """The page a check-in button was on: the door page or the roster (nothing else)."""
    return _door_url(event_id) if request.POST.get("back") == "door" else _manage_url(event_id)


def _submit(request: HttpRequest, form: forms.BaseForm, action: Callable[[], T]) -> T | None:
    """On a valid POST, run the service; what it refuses becomes the form's errors.

    Returns what the service returned, or None when nothing was done.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return action()
    except services.EventInvalid as error:
        for name, field_messages in error.fields.items():
            for message in field_messages:
                form.add_error(name if name in form.fields else None, message)
    except (services.EventStateConflict, services.MessageRateLimited) as error:
        form.add_error(None, error.message)
        form.retry_after = getattr(error, "retry_after", None)  # type: ignore[attr-defined]
    return None


def _form_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The form again; 429 with Retry-After when a rate limit refused it."""
    retry_after = getattr(context["form"], "retry_after", None)
    response = render(request, template, context, status=429 if retry_after else 200)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _post_action(
    request: AuthenticatedRequest,
    pk: int,
    service: Callable[..., object],
    success: str,
    **data: Any,
) -> HttpResponse:
    """A button on the manage page: run `service(event_id=pk, by=user, **data)`, say how it went."""
    try:
        service(event_id=pk, by=request.user, **data)
    except _REFUSED as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect(_manage_url(pk))


@_access_errors_as_http
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    if not permissions.organizations_hosting_for(request.user):
        permissions.event_check_create(user=request.user)
    tab = request.GET.get("show", "upcoming")
    if tab not in selectors.DASHBOARD_TABS:
        tab = "upcoming"
    dashboard = selectors.organizer_dashboard(user=request.user, tab=tab)
    paginator = CountedPaginator(
        dashboard["events"], selectors.DASHBOARD_PAGE_SIZE, count=dashboard["count"]
    )
    # page=abc or past the end shows the last page, as on the home page.
    page_obj = paginator.get_page(request.GET.get("page"))
    by_day = selectors.organizer_registrations_by_day(user=request.user)
    chart = [Point(label=f"{day:%b} {day.day}", value=count) for day, count in by_day]
    # Imported here: escore reads events' models at import time.
    from escore.selectors import disputes_pending_for

    context = {
        "disputes": len(disputes_pending_for(user=request.user)),
        "tab": tab,
        "tabs": dashboard["tabs"],
        "page_obj": page_obj,
        "events": page_obj.object_list,
        "chart": chart,
        "chart_svg": line_chart(chart, title="Registrations per day", labels_every=7),
        "chart_total": sum(point.value for point in chart),
    }
    return render(request, "events/organize/dashboard.html", context)


class CountedPaginator(Paginator):
    """A paginator told its count, which the dashboard's tab counts already hold."""

    def __init__(self, object_list, per_page, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@_access_errors_as_http
def event_create(request: AuthenticatedRequest) -> HttpResponse:
    hosts = permissions.organizations_hosting_for(request.user)
    if not hosts:
        permissions.event_check_create(user=request.user)
    initial = {}
    if request.GET.get("organization", "").isdigit():
        initial["organization"] = int(request.GET["organization"])
    elif hosts and not permissions.user_can_create_events(request.user):
        initial["organization"] = hosts[0].pk
    form = SeriesEventForm(request.POST or None, user=request.user, initial=initial)

    def create():
        series = form.series_data()
        if series is None:
            return services.event_create(organizer=request.user, **form.event_data())
        return services.series_create(organizer=request.user, **series, **form.event_data())[0]

    event = _submit(request, form, create)
    if event:
        if event.series_id:
            count = event.series.occurrences.count()
            messages.success(
                request, f"Saved {count} events as drafts. Publish them when they're ready."
            )
        else:
            messages.success(request, "Saved as a draft. Publish it when it's ready.")
        return redirect(_manage_url(event.pk))
    context = {"form": form, "heading": "New event"}
    return render(request, "events/organize/event_form.html", context)


@_access_errors_as_http
def event_duplicate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Ask for the copy's start; the copy is a new draft with every time moved as much."""
    source = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EDIT)
    form = DuplicateEventForm(
        request.POST or None, initial={"starts_at": source.starts_at + timedelta(days=7)}
    )
    copy = _submit(
        request,
        form,
        lambda: services.event_duplicate(
            event_id=pk, by=request.user, starts_at=form.cleaned_data["starts_at"]
        ),
    )
    if copy:
        messages.success(request, "Copied as a draft. Check it, then publish it.")
        return redirect(reverse("events:edit", kwargs={"pk": copy.pk}))
    context = {"form": form, "event": source, "heading": f"Copy of {source.title}"}
    return render(request, "events/organize/duplicate.html", context)


@_access_errors_as_http
def event_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EDIT)
    form = EventForm(request.POST or None, instance=event, user=request.user)
    scope = ScopeForm(request.POST or None) if event.series_id else None
    following = (
        scope is not None and scope.is_valid() and scope.cleaned_data["scope"] == SCOPE_FOLLOWING
    )
    update = services.series_update_following if following else services.event_update
    if _submit(
        request,
        form,
        lambda: update(event_id=pk, by=request.user, **form.changes(event)),
    ):
        messages.success(request, "Changes saved.")
        return redirect(_manage_url(event.pk))
    context = {"form": form, "heading": f"Edit {event.title}", "event": event, "scope": scope}
    return render(request, "events/organize/event_form.html", context)


@require_POST
@_access_errors_as_http
def event_publish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    if request.POST.get("scope") == SCOPE_FOLLOWING:
        success = "Published this event and the following ones of the series."
        return _post_action(request, pk, services.series_publish_following, success)
    success = "Published: students can find it and register now."
    return _post_action(request, pk, services.event_publish, success)


@require_POST
@_access_errors_as_http
def event_unpublish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    success = "Unpublished: only its organizer and staff can see it now."
    return _post_action(request, pk, services.event_unpublish, success)


@_access_errors_as_http
def event_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.CANCEL)
    form = CancelEventForm(request.POST or None)
    if _submit(
        request,
        form,
        lambda: services.event_cancel(event_id=pk, by=request.user, **form.cleaned_data),
    ):
        messages.success(request, "The event is cancelled; registered students get an e-mail.")
        return redirect(_manage_url(event.pk))
    return render(request, "events/organize/cancel.html", {"form": form, "event": event})


@require_POST
@_access_errors_as_http
def event_place(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Place the event by hand when geocoding could not (or got it wrong)."""
    form = PlaceEventForm(request.POST)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(message) for message in error))
        return redirect(_manage_url(pk))
    success = "The event is on the map."
    return _post_action(request, pk, services.event_place, success, **form.coordinates())


@_access_errors_as_http
def event_manage(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The event as its organizer sees it: state, actions and the roster."""
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.ROSTER)
    context = {
        "event": event,
        "roster": selectors.roster_for_event(event=event),
        "questions": selectors.question_list(event_id=event.pk),
        "series": selectors.series_occurrences(event=event),
        "can_unpublish": permissions.user_can(request.user, Action.UNPUBLISH, event),
        "place_form": PlaceEventForm(),
    }
    return render(request, "events/organize/manage.html", context)


@_access_errors_as_http
def event_questions(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The questions students answer when registering: add one, or a preset."""
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EDIT)
    preset = request.POST.get("preset", "")
    form = QuestionForm(None if preset else (request.POST or None))
    if preset and request.method == "POST":
        try:
            services.question_add(event_id=pk, by=request.user, preset=preset)
        except services.EventInvalid as error:
            for field_messages in error.fields.values():
                form.add_error(None, " ".join(field_messages))
        else:
            messages.success(request, "Question added.")
            return redirect(reverse("events:questions", kwargs={"pk": pk}))
    elif _submit(
        request,
        form,
        lambda: (
            services.series_question_add
            if form.cleaned_data.get("following")
            else services.question_add
        )(event_id=pk, by=request.user, **form.question_data()),
    ):
        messages.success(request, "Question added.")
        return redirect(reverse("events:questions", kwargs={"pk": pk}))
    if not event.series_id:
        del form.fields["following"]
    context = {
        "event": event,
        "form": form,
        "questions": selectors.question_list(event_id=pk),
        "presets": services.PRESETS,
    }
    return render(request, "events/organize/questions.html", context)


@require_POST
@_access_errors_as_http
def question_delete(request: AuthenticatedRequest, pk: int, question_pk: int) -> HttpResponse:
    services.question_delete(event_id=pk, question_id=question_pk, by=request.user)
    messages.success(request, "Question removed, with the answers given to it.")
    return redirect(reverse("events:questions", kwargs={"pk": pk}))


@_access_errors_as_http
def event_image(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Upload (or replace) the cover image, with its alt text."""
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EDIT)
    form = CoverImageForm(request.POST or None, request.FILES or None)
    if _submit(
        request,
        form,
        lambda: services.event_image_set(event_id=pk, by=request.user, **form.image_data()),
    ):
        messages.success(request, "Cover image saved.")
        return redirect(_manage_url(pk))
    if not event.series_id:
        del form.fields["following"]
    return render(request, "events/organize/image.html", {"form": form, "event": event})


@require_POST
@_access_errors_as_http
def event_image_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, services.event_image_remove, "Cover image removed: the category's shows."
    )


@_access_errors_as_http
def roster_export(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EXPORT)
    roster = selectors.roster_for_event(event=event)
    rows = roster["confirmed"] + roster["waitlisted"] + roster["cancelled"]
    questions = selectors.question_list(event_id=event.pk)
    response = HttpResponse(roster_csv(rows, questions), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="eren-roster-{event.pk}.csv"'
    return response


@_access_errors_as_http
def message_registrants(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.MESSAGE)
    form = OrganizerMessageForm(request.POST or None)
    message = _submit(
        request,
        form,
        lambda: services.organizer_message_send(event_id=pk, by=request.user, **form.cleaned_data),
    )
    if message:
        count = message.recipient_count
        messages.success(request, f"Your message is on its way to {count} students.")
        return redirect(_manage_url(event.pk))
    return _form_page(request, "events/organize/message.html", {"form": form, "event": event})


def _checked_in_said(name: str, changed: bool) -> str:
    return f"{name} is checked in." if changed else f"{name} was already checked in."


def _registration_action(
    request: AuthenticatedRequest,
    pk: int,
    service: Callable[..., services.CheckInOutcome],
    said: Callable[[str, bool], str],
) -> HttpResponse:
    """A check-in button: run `service(registration_id=pk, by=user)`, say how it went, go back."""
    try:
        outcome = service(registration_id=pk, by=request.user)
    except _REFUSED as error:
        messages.error(request, error.message)
        event_id = selectors.registration_event_id(registration_id=pk)
        return redirect(_back_to(request, event_id) if event_id else reverse("events:organize"))
    messages.success(request, said(outcome.registration.user.get_full_name(), outcome.changed))
    return redirect(_back_to(request, outcome.registration.event_id))


@require_POST
@_access_errors_as_http
def registration_check_in(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One tap on the roster or the door page."""
    return _registration_action(request, pk, services.registration_check_in, _checked_in_said)


@require_POST
@_access_errors_as_http
def registration_check_in_undo(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _registration_action(
        request,
        pk,
        services.registration_check_in_undo,
        lambda name, changed: f"Check-in of {name} is undone.",
    )


@_access_errors_as_http
def door(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Check-in at the door, on the organizer's phone: find a student, tap, next.

    `?q=` searches the roster by name or e-mail; an e-mail address nobody on the roster has
    is offered as a walk-in. With `?partial=1` only the results (static/js/door.js swaps
    them in as the organizer types).
    """
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.CHECK_IN)
    query = request.GET.get("q", "").strip()[:100]
    results = selectors.roster_search(event=event, query=query) if query else []
    # A whole address nobody on the roster has: offer to add them as a walk-in.
    walk_in_email = WalkInForm.email_or_none(query)
    if walk_in_email and walk_in_email in {r.user.email.lower() for r in results}:
        walk_in_email = None
    context = {"event": event, "query": query, "results": results, "walk_in_email": walk_in_email}
    if request.GET.get("partial"):
        return render(request, "events/organize/_door_results.html", context)
    context |= {
        "counts": selectors.check_in_counts(event_id=event.pk, fresh=True),
        "latest": selectors.check_ins_latest(event=event),
        "settings_form": CheckInSettingsForm(instance=event),
    }
    return render(request, "events/organize/door.html", context)


@require_POST
@_access_errors_as_http
def walk_in(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    form = WalkInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Type the student's full school e-mail address.")
        return redirect(_door_url(pk))
    try:
        outcome = services.walk_in_check_in(
            event_id=pk, email=form.cleaned_data["email"], by=request.user
        )
    except _REFUSED as error:
        messages.error(request, error.message)
        return redirect(_door_url(pk))
    messages.success(
        request, _checked_in_said(outcome.registration.user.get_full_name(), outcome.changed)
    )
    return redirect(_door_url(pk))


@require_POST
@_access_errors_as_http
def check_in_settings(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Walk-ins beyond capacity, no-show release and the self check-in radius."""
    form = CheckInSettingsForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            messages.error(request, " ".join(str(message) for message in field_errors))
        return redirect(_door_url(pk))
    try:
        services.event_update(event_id=pk, by=request.user, **form.cleaned_data)
    except services.EventInvalid as error:
        for field_messages in error.fields.values():
            messages.error(request, " ".join(field_messages))
    except _REFUSED as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Check-in settings saved.")
    return redirect(_door_url(pk))


@_access_errors_as_http
def code_screen(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The screen at the door: the event code and its QR code, new every 30 seconds."""
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.CHECK_IN)
    context: dict[str, Any] = {"event": event}
    try:
        code = services.check_in_code_show(event_id=pk, by=request.user)
    except _REFUSED as error:
        context["error"] = error.message
        return render(request, "events/organize/code_screen.html", context, status=409)
    url = request.build_absolute_uri(code.path)
    context |= {
        "code": code,
        "code_url": url,
        # Safe: segno's SVG of our own URL.
        "qr_svg": mark_safe(ticket_qr_svg(url)),  # noqa: S308 # nosec B308 B703
        "self_check_in_url": request.build_absolute_uri(reverse("events:self-check-in")),
        # Without JavaScript the page reloads itself when the code changes.
        "refresh_seconds": max(1, math.ceil((code.expires_at - timezone.now()).total_seconds())),
        "counts": selectors.check_in_counts(event_id=pk),
    }
    return render(request, "events/organize/code_screen.html", context)


class CheckInView(View):
    """The page a scanned ticket opens: who it is, and a button that checks them in.

    Only the event's organizers and staff get past `dispatch`; the student opening their own
    link is told to show it at the door. A GET never changes anything.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            self.registration = ticket_registration_get(kwargs["token"])
            permissions.event_check_access(
                user=request.user, event=self.registration.event, action=Action.CHECK_IN
            )
        except services.TicketInvalid as error:
            return self.page(error=error.message, status=404)
        except services.EventNotFound as error:
            raise Http404(error.message) from error
        except services.ActionForbidden:
            return self.page(error=_NOT_THEIR_EVENT, status=403)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: AuthenticatedRequest, token: str) -> HttpResponse:
        return self.page(registration=self.registration)

    def post(self, request: AuthenticatedRequest, token: str) -> HttpResponse:
        try:
            outcome = services.registration_check_in(
                registration_id=self.registration.pk,
                by=request.user,
                method=AttendanceRecord.Method.TICKET,
            )
        except _REFUSED as error:
            return self.page(error=error.message, status=409, registration=self.registration)
        return self.page(outcome=outcome, registration=outcome.registration)

    def page(self, *, status: int = 200, **context: Any) -> HttpResponse:
        if "registration" in context:
            context["event"] = context["registration"].event
        return render(self.request, "events/organize/check_in.html", context, status=status)
