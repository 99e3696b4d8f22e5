from dataclasses import replace
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from core.fragments import PREFETCHED, fetch_together, fragment_key
from orgs import selectors as org_selectors
from users.models import User
from users.requests import AuthenticatedRequest
from users.selectors import user_has_verified_school_email

from . import permissions, recommendations, selectors, services
from .access import AccessFeature, features_ordered
from .calendar import calendar_render
from .forms import RegistrationForm, SelfCheckInForm
from .models import EventPost, EventRegistration
from .search import (
    SearchParamsError,
    event_search,
    event_suggest,
    parse_page_number,
    parse_search_params,
    search_ways_out,
    searcher_needs,
)
from .tickets import ticket_check_in_path, ticket_qr_svg

PAGE_SIZE = 20
# "For you" on the home page, and the session key of the pick just hidden (for its undo).
HOME_PICKS = 6
HIDDEN_SESSION_KEY = "recommendation_hidden"


class EventListView(ListView):
    """Home: upcoming events with quick filters (today, this week, this weekend) and categories.

    The list under the filters is the same for every reader who may see the same
    visibilities, so the template keeps it as one shared fragment (selectors.
    home_list_cache_seconds) and the queries behind it are lazy: a cached fragment runs none
    of them. What is the reader's own (the followed organizations' events) stays outside.
    """

    template_name = "events/event_list.html"
    context_object_name = "events"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        when = self.request.GET.get("when")
        self.when = when if when in selectors.BROWSE_WINDOWS else None
        self.category_slug = self.request.GET.get("category") or None
        self.visibilities = permissions.listable_visibilities(self.request.user)
        return selectors.event_list_browse(
            when=self.when, category_slug=self.category_slug, visibilities=self.visibilities
        )

    def paginate_queryset(self, queryset, page_size):
        # page=abc or a page past the end shows the last page instead of a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        # Counted and read only when the shared fragment is rendered (a cache miss).
        pagination = SimpleLazyObject(
            lambda: self.paginate_queryset(self.object_list, self.paginate_by)
        )
        list_cache_key = selectors.home_list_cache_key(
            visibilities=self.visibilities, query=self.request.GET.urlencode()
        )
        # The page's two shared fragments and the student's cached picks: one Redis round
        # trip (core.fragments); the template's {% shared_cache %} names the same fragments.
        prefetched = fetch_together(
            [
                fragment_key("home_list_filters", list_cache_key),
                fragment_key("home_list_events", list_cache_key),
                *self._for_you_cache_keys(),
            ]
        )
        return {
            "view": self,
            "paginator": SimpleLazyObject(lambda: pagination[0]),
            "page_obj": SimpleLazyObject(lambda: pagination[1]),
            "events": SimpleLazyObject(lambda: pagination[2]),
            "is_paginated": SimpleLazyObject(lambda: pagination[3]),
            "list_cache_seconds": selectors.home_list_cache_seconds(),
            "list_cache_key": list_cache_key,
            PREFETCHED: prefetched,
            "categories": selectors.category_list_with_upcoming_counts,
            "when": self.when,
            "category_slug": self.category_slug,
            "windows": [("today", "Today"), ("week", "This week"), ("weekend", "This weekend")],
            "followed_events": org_selectors.followed_events(user=self.request.user),
            **self._for_you(prefetched),
            **kwargs,
        }

    def _shows_for_you(self) -> bool:
        """The signed-in student's picks show on the unfiltered first page only."""
        return bool(
            self.request.user.is_authenticated
            and not self.when
            and not self.category_slug
            and self.request.GET.get("page") in (None, "", "1")
        )

    def _for_you_cache_keys(self) -> list[str]:
        user_id = self.request.user.pk
        return [recommendations.cache_key(user_id)] if user_id and self._shows_for_you() else []

    def _for_you(self, prefetched: dict) -> dict:
        if not self._shows_for_you():
            return {}
        return {
            "recommendations": recommendations.recommendations_for(
                user=self.request.user, limit=HOME_PICKS, prefetched=prefetched
            ),
            "recommendation_hidden": self.request.session.pop(HIDDEN_SESSION_KEY, None),
        }


class SearchView(TemplateView):
    template_name = "events/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["categories"] = selectors.category_choices()
        context["places"] = selectors.place_choices()
        context["access_choices"] = AccessFeature.choices
        context.update(_my_needs_link(self.request))
        try:
            params = searcher_needs(
                replace(
                    parse_search_params(self.request.GET),
                    visibilities=permissions.listable_visibilities(self.request.user),
                ),
                self.request.user,
            )
            page = parse_page_number(self.request.GET.get("page"))
        except SearchParamsError as error:
            context["errors"] = error.fields
            return context
        results = event_search(params, page=page, page_size=PAGE_SIZE)
        if results.is_past_end and page > 1:
            # A stale link or a typed number: the last page, saying so, not an empty page.
            context["page_past_end"] = page
            page = results.num_pages
            results = event_search(params, page=page, page_size=PAGE_SIZE)
        context.update(params=params, results=results, page=page, query=self.request.GET)
        context["my_statuses"] = selectors.registration_statuses(
            user=self.request.user, event_ids=[event.pk for event in results.events]
        )
        if not results.events:
            names = {facet.slug: facet.name for facet in results.facets}
            context["ways_out"] = search_ways_out(self.request.GET, params, category_names=names)
        return context

    def render_to_response(self, context, **response_kwargs):
        if "errors" in context:
            response_kwargs["status"] = 400
        return super().render_to_response(context, **response_kwargs)


def _my_needs_link(request: HttpRequest) -> dict:
    """The search filtered to the student's saved access needs, unless it already is."""
    needs = features_ordered(getattr(request.user, "access_needs", None) or ())
    if not needs or set(request.GET.getlist("access")) >= set(needs):
        return {}
    query = request.GET.copy()
    query.setlist("access", needs)
    query.pop("page", None)
    return {
        "my_needs_url": "?" + query.urlencode(),
        "my_needs_labels": [AccessFeature(need).label for need in needs],
    }


def search_suggest(request: HttpRequest) -> JsonResponse:
    """Titles matching what the student is typing, for the search box's datalist."""
    prefix = request.GET.get("q", "")[:100]
    return JsonResponse({"suggestions": event_suggest(prefix) if prefix.strip() else []})


class EventDetailView(DetailView):
    template_name = "events/event_detail.html"
    context_object_name = "event"

    def get_object(self, queryset=None):
        # Published and cancelled events for everyone; drafts for their organizer and staff.
        try:
            return permissions.event_get_authorized(
                event_id=self.kwargs["pk"],
                user=self.request.user,
                action=permissions.Action.VIEW,
                for_page=True,
            )
        except services.EventNotFound as exc:
            raise Http404("No such event.") from exc
        except services.ActionForbidden as exc:
            # Members-only or school-only: the reason, and how to get in.
            raise PermissionDenied(exc.message) from exc

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except services.NotAuthenticated:
            return redirect_to_login(request.get_full_path())

    def get_context_data(self, **kwargs):
        user = self.request.user
        registration = selectors.registration_get_active(event_id=self.object.pk, user=user)
        if registration is not None:
            registration.event = self.object  # its deadlines and status, without a query
        event = self.object
        return super().get_context_data(
            registration=registration,
            cohosts=list(event.cohosts.all())
            if event.organization_id and getattr(event, "has_cohosts", True)
            else [],
            waitlist_position=registration
            and selectors.registration_waitlist_position(registration=registration),
            can_manage=permissions.user_can(user, permissions.Action.ROSTER, self.object),
            join_url=selectors.join_url_for(event=self.object, user=user),
            # Asked only when the page offers to register (the template's choice).
            register_form=SimpleLazyObject(
                lambda: RegistrationForm(
                    event=self.object,
                    questions=selectors.question_list(event_id=self.object.pk)
                    if getattr(self.object, "has_questions", True)
                    else [],
                )
            ),
            email_unverified=lambda: (
                user.is_authenticated and not user_has_verified_school_email(user=user)
            ),
            **kwargs,
        )


@require_POST
@login_required
def registration_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    event = EventPost.objects.filter(pk=pk).first()
    if event is None:
        raise Http404("No such event.")
    form = RegistrationForm(
        request.POST, event=event, questions=selectors.question_list(event_id=pk)
    )
    if not form.is_valid():
        for name, field_errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else None
            text = " ".join(str(message) for message in field_errors)
            messages.error(request, f"{label}: {text}" if label else text)
        return redirect(_next_or_event(request, pk))
    try:
        registration = services.registration_create(
            event_id=pk, user=request.user, **form.registration_data()
        )
    except services.RegistrationError as error:
        return _registration_refused(request, pk, error)
    if registration.status == EventRegistration.Status.CONFIRMED:
        messages.success(request, "You're registered. See you there!")
    else:
        messages.info(request, "The event is full, so you're on the waitlist.")
    return redirect(_next_or_event(request, pk))


@require_POST
@login_required
def registration_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        services.registration_cancel(event_id=pk, user=request.user)
    except services.RegistrationError as error:
        return _registration_refused(request, pk, error)
    messages.success(request, "Your registration is cancelled.")
    return redirect(_next_or_event(request, pk))


@require_POST
@login_required
def recommendation_dismiss(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """ "Not interested" in a pick: gone from "For you", with an undo there."""
    try:
        dismissal = services.recommendation_dismiss(event_id=pk, user=request.user)
    except services.EventNotFound as error:
        raise Http404(error.message) from error
    except services.ActionForbidden as error:
        raise PermissionDenied(error.message) from error
    request.session[HIDDEN_SESSION_KEY] = {"id": pk, "title": dismissal.event.title}
    return redirect(reverse("events:list") + "#for-you-heading")


@require_POST
@login_required
def recommendation_undismiss(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    if services.recommendation_undismiss(event_id=pk, user=request.user):
        messages.success(request, "Undone: the event can be picked for you again.")
    else:
        messages.info(request, "That event was not hidden.")
    return redirect(reverse("events:list") + "#for-you-heading")


def _registration_refused(request, pk: int, error: services.RegistrationError) -> HttpResponse:
    if isinstance(error, services.EventNotFound):
        raise Http404(error.message)
    if isinstance(error, services.EmailUnverified):
        messages.info(request, error.message)
        return redirect("users:verify-email")
    if isinstance(error, services.EventInvalid) and error.fields:
        for field_messages in error.fields.values():
            messages.error(request, " ".join(field_messages))
    else:
        messages.error(request, error.message)
    return redirect(_next_or_event(request, pk))


def _next_or_event(request: HttpRequest, pk: int) -> str:
    # Only our own My events page may be named as the place to return to.
    if request.POST.get("next") == reverse("events:mine"):
        return reverse("events:mine")
    return reverse("events:detail", kwargs={"pk": pk})


def event_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Add to calendar": the event as an .ics file."""
    try:
        event = selectors.event_get_visible(event_id=pk)
        permissions.event_check_visibility(user=request.user, event=event)
    except (EventPost.DoesNotExist, services.NotAuthenticated) as exc:
        raise Http404("No such event.") from exc
    except services.ActionForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    join_url = selectors.join_url_for(event=event, user=request.user)
    response = HttpResponse(
        calendar_render([event], name=event.title, join_urls={event.pk: join_url}),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="eren-event-{event.pk}.ics"'
    return response


@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The student's registrations as a feed calendar apps subscribe to; the token is the key."""
    user = get_object_or_404(User, calendar_token=token, is_active=True)
    events = list(selectors.calendar_feed_events(user=user))
    waiting = {event.pk for event in events if event.registration_status == "waitlisted"}  # type: ignore[attr-defined]
    # Join links only for the confirmed seats (selectors.join_url_for's rule).
    join_urls = {
        event.pk: event.join_url
        for event in events
        if event.pk not in waiting and event.mode != EventPost.Mode.IN_PERSON
    }
    return HttpResponse(
        calendar_render(events, name="My E-Ren events", tentative=waiting, join_urls=join_urls),
        content_type="text/calendar; charset=utf-8",
    )


class MyEventsView(LoginRequiredMixin, TemplateView):
    template_name = "events/my_events.html"

    def get_context_data(self, **kwargs):
        user = cast(User, self.request.user)
        upcoming, past = selectors.registrations_upcoming_and_past(user=user)
        feed_path = user.calendar_token and reverse(
            "events:calendar-feed", kwargs={"token": user.calendar_token}
        )
        return super().get_context_data(
            upcoming=upcoming,
            past=past,
            feed_url=self.request.build_absolute_uri(feed_path) if feed_path else None,
            **kwargs,
        )


@require_POST
@login_required
def calendar_feed_reset(request: AuthenticatedRequest) -> HttpResponse:
    had_feed = bool(request.user.calendar_token)
    request.user.calendar_token_rotate()
    messages.success(
        request,
        "Your calendar link is new; the old one stopped working."
        if had_feed
        else "Your calendar link is ready. Add it to your calendar app as a subscription.",
    )
    return redirect("events:mine")


@login_required
def ticket(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The student's ticket: a QR code of the check-in link, while it can still be used."""
    try:
        registration = selectors.registration_get_ticket(registration_id=pk, user=request.user)
    except EventRegistration.DoesNotExist as error:
        raise Http404("No such ticket.") from error
    url = request.build_absolute_uri(ticket_check_in_path(registration))
    svg = ticket_qr_svg(url) if registration.ticket_available else ""
    context = {"registration": registration, "event": registration.event, "check_in_url": url}
    # Safe: segno's SVG of our own signed URL.
    context["qr_svg"] = mark_safe(svg)  # noqa: S308 # nosec B308 B703
    return render(request, "events/ticket.html", context)


# Refusals a student can act on at the door: said on the page, with the status the API uses.
_SELF_CHECK_IN_REFUSED = (
    services.CheckInCodeInvalid,
    services.CheckInClosed,
    services.EventCancelled,
    services.EventFull,
    services.EventStateConflict,
    services.LocationRequired,
    services.TooFarAway,
    services.NotEligible,
    services.RegistrationBusy,
)


@login_required
def self_check_in(request: AuthenticatedRequest) -> HttpResponse:
    """The student checks in with the code on the screen at the door (typed, or its QR code).

    GET shows the form (filled in from the QR code's link) and changes nothing; POST checks
    in. When the event asks for the phone's location, static/js/self_check_in.js adds it.
    """
    if request.method == "POST":
        form = SelfCheckInForm(request.POST)
    else:
        # From the QR code's link: the event and its code, filled in, nothing done yet.
        form = SelfCheckInForm(
            initial={"code": request.GET.get("code", ""), "event": request.GET.get("event")}
        )
    event_id = request.POST.get("event") or request.GET.get("event") or ""
    context: dict[str, object] = {
        "form": form,
        "needs_location": event_id.isdigit()
        and selectors.event_asks_location(event_id=int(event_id[:12])),
    }
    if request.method != "POST":
        return render(request, "events/self_check_in.html", context)
    status = 200
    if not form.is_valid():
        context["error"] = "Type the six characters on the screen at the door."
        status = 422
    else:
        try:
            context["outcome"] = services.check_in_by_code(
                user=request.user,
                code=form.cleaned_data["code"],
                event_id=form.cleaned_data["event"],
                position=form.position(),
            )
        except _SELF_CHECK_IN_REFUSED as error:
            context["error"] = error.message
            if isinstance(error, services.LocationRequired):
                context["needs_location"] = True
            status = error.http_status
    return render(request, "events/self_check_in.html", context, status=status)
