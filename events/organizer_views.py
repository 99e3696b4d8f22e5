"""The organizer's pages: dashboard, create/edit/duplicate, roster, check-in, messages.

Each view loads the event through `permissions.event_get_authorized` (or lets a service do
it) and maps the errors in one way: drafts of others and missing objects are 404, events
the user may not manage are 403, anonymous users go to the login page.
"""

from functools import wraps

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from . import permissions, selectors, services
from .exports import roster_csv
from .forms import CancelEventForm, EventForm, OrganizerMessageForm, PlaceEventForm
from .models import EventRegistration
from .permissions import Action
from .tickets import ticket_check_in_path, ticket_registration_get

_NOT_FOUND = (services.EventNotFound, services.NotRegistered, services.TicketInvalid)


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


def _add_service_errors(form, error: services.EventInvalid) -> None:
    for name, field_messages in error.fields.items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


@_access_errors_as_http
def dashboard(request: HttpRequest) -> HttpResponse:
    permissions.event_check_create(user=request.user)
    return render(
        request,
        "events/organize/dashboard.html",
        {"groups": selectors.organizer_dashboard(user=request.user)},
    )


@_access_errors_as_http
def event_create(request: HttpRequest) -> HttpResponse:
    permissions.event_check_create(user=request.user)
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_create(organizer=request.user, **form.cleaned_data)
        except services.EventInvalid as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "Saved as a draft. Publish it when it's ready.")
            return redirect(_manage_url(event.pk))
    return render(
        request, "events/organize/event_form.html", {"form": form, "heading": "New event"}
    )


@_access_errors_as_http
def event_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    """The new-event form filled in from an existing event; nothing is saved until submitted."""
    source = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EDIT)
    form = EventForm(
        initial={name: getattr(source, name) for name in services.EVENT_EDITABLE_FIELDS}
    )
    return render(
        request,
        "events/organize/event_form.html",
        {"form": form, "heading": f"Copy of {source.title}", "action": reverse("events:create")},
    )


@_access_errors_as_http
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EDIT)
    form = EventForm(request.POST or None, instance=event)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        for name in ("starts_at", "ends_at"):
            # The form shows minutes; an unchanged time must not count as a change.
            if changes[name] == getattr(event, name).replace(second=0, microsecond=0):
                changes[name] = getattr(event, name)
        try:
            services.event_update(event_id=event.pk, by=request.user, **changes)
        except services.EventInvalid as error:
            _add_service_errors(form, error)
        except services.EventStateConflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Changes saved.")
            return redirect(_manage_url(event.pk))
    return render(
        request,
        "events/organize/event_form.html",
        {"form": form, "heading": f"Edit {event.title}", "event": event},
    )


def _post_action(request: HttpRequest, pk: int, action, success: str) -> HttpResponse:
    try:
        action()
    except (services.EventStateConflict, services.CheckInClosed, services.EventCancelled) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect(_manage_url(pk))


@require_POST
@_access_errors_as_http
def event_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        lambda: services.event_publish(event_id=pk, by=request.user),
        "Published: students can find it and register now.",
    )


@require_POST
@_access_errors_as_http
def event_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request,
        pk,
        lambda: services.event_unpublish(event_id=pk, by=request.user),
        "Unpublished: only its organizer and staff can see it now.",
    )


@_access_errors_as_http
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.CANCEL)
    form = CancelEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.event_cancel(
                event_id=event.pk, by=request.user, reason=form.cleaned_data["reason"]
            )
        except services.EventInvalid as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, "The event is cancelled; registered students get an e-mail.")
            return redirect(_manage_url(event.pk))
    return render(request, "events/organize/cancel.html", {"form": form, "event": event})


@require_POST
@_access_errors_as_http
def event_place(request: HttpRequest, pk: int) -> HttpResponse:
    """Place the event by hand when geocoding could not (or got it wrong)."""
    form = PlaceEventForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_manage_url(pk))
    return _post_action(
        request,
        pk,
        lambda: services.event_place(
            event_id=pk,
            by=request.user,
            latitude=form.cleaned_data["latitude"],
            longitude=form.cleaned_data["longitude"],
        ),
        "The event is on the map.",
    )


@_access_errors_as_http
def event_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """The event as its organizer sees it: state, actions and the roster."""
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.ROSTER)
    return render(
        request,
        "events/organize/manage.html",
        {
            "event": event,
            "roster": selectors.roster_for_event(event=event),
            "can_unpublish": permissions.user_can(request.user, Action.UNPUBLISH, event),
            "place_form": PlaceEventForm(),
        },
    )


@_access_errors_as_http
def roster_export(request: HttpRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.EXPORT)
    roster = selectors.roster_for_event(event=event)
    rows = roster["confirmed"] + roster["waitlisted"] + roster["cancelled"]
    response = HttpResponse(roster_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="eren-roster-{event.pk}.csv"'
    return response


@_access_errors_as_http
def message_registrants(request: HttpRequest, pk: int) -> HttpResponse:
    event = permissions.event_get_authorized(event_id=pk, user=request.user, action=Action.MESSAGE)
    form = OrganizerMessageForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            message = services.organizer_message_send(
                event_id=event.pk, by=request.user, **form.cleaned_data
            )
        except services.EventInvalid as error:
            _add_service_errors(form, error)
        except services.MessageRateLimited as error:
            form.add_error(None, error.message)
            status, retry_after = 429, error.retry_after
        else:
            messages.success(
                request, f"Your message is on its way to {message.recipient_count} students."
            )
            return redirect(_manage_url(event.pk))
    response = render(
        request, "events/organize/message.html", {"form": form, "event": event}, status=status
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
@_access_errors_as_http
def registration_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Manual check-in from the roster."""
    try:
        outcome = services.registration_check_in(registration_id=pk, by=request.user)
    except (services.EventStateConflict, services.CheckInClosed, services.EventCancelled) as error:
        messages.error(request, error.message)
        return redirect(_event_of_registration_url(request, pk))
    name = outcome.registration.user.get_full_name()
    messages.success(
        request, f"{name} is checked in." if outcome.changed else f"{name} was already checked in."
    )
    return redirect(_manage_url(outcome.registration.event_id))


@require_POST
@_access_errors_as_http
def registration_check_in_undo(request: HttpRequest, pk: int) -> HttpResponse:
    outcome = services.registration_check_in_undo(registration_id=pk, by=request.user)
    messages.success(request, f"Check-in of {outcome.registration.user.get_full_name()} is undone.")
    return redirect(_manage_url(outcome.registration.event_id))


def _event_of_registration_url(request: HttpRequest, registration_id: int) -> str:
    event_id = (
        EventRegistration.objects.filter(pk=registration_id)
        .values_list("event_id", flat=True)
        .first()
    )
    return _manage_url(event_id) if event_id else reverse("events:organize")


def check_in(request: HttpRequest, token: str) -> HttpResponse:
    """The page a scanned ticket opens: who it is, and a button that checks them in.

    Only the event's organizers and staff get past the first check; the student opening
    their own link is told to show it at the door. A GET never changes anything.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        registration = ticket_registration_get(token)
        permissions.event_check_access(
            user=request.user, event=registration.event, action=Action.CHECK_IN
        )
    except services.TicketInvalid as error:
        return _check_in_page(request, error=error.message, status=404)
    except services.EventNotFound as error:
        raise Http404(error.message) from error
    except services.ActionForbidden:
        return _check_in_page(
            request,
            error="Only this event's organizers can check students in. Show this code at the door.",
            status=403,
        )
    context = {"registration": registration, "event": registration.event, "token": token}
    if request.method == "POST":
        try:
            outcome = services.registration_check_in(
                registration_id=registration.pk, by=request.user
            )
        except (
            services.EventStateConflict,
            services.CheckInClosed,
            services.EventCancelled,
        ) as error:
            return _check_in_page(request, error=error.message, status=409, **context)
        context.update(outcome=outcome, registration=outcome.registration)
        return _check_in_page(request, **context)
    return _check_in_page(request, **context)


def _check_in_page(request, *, status: int = 200, **context) -> HttpResponse:
    return render(request, "events/organize/check_in.html", context, status=status)


@login_required
def ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """The student's ticket: a QR code of the check-in link, for the organizer's phone camera."""
    try:
        registration = selectors.registration_get_ticket(registration_id=pk, user=request.user)
    except EventRegistration.DoesNotExist as error:
        raise Http404("No such ticket.") from error
    url = request.build_absolute_uri(ticket_check_in_path(registration))
    # segno writes the SVG from the URL alone, which is ours and signed: no user text in it.
    svg = ""
    if registration.ticket_available:
        svg = segno.make(url, error="m").svg_inline(scale=6, dark="#1d1d1f", omitsize=True)
    return render(
        request,
        "events/organize/ticket.html",
        {
            "registration": registration,
            "event": registration.event,
            "qr_svg": mark_safe(svg),  # noqa: S308 - segno's SVG of our URL # nosec B308 B703
            "check_in_url": url,
        },
    )
