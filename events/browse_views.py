"""Other ways to look at a search and at My events: a campus map and week/month calendars.

The list stays the primary view; these pages read the same query string, so a student
moves between them without losing the search. All of them work without JavaScript except
the map itself, which is drawn by static/js/event_map.js over the list it repeats.
"""

import datetime as dt
from dataclasses import replace
from typing import cast

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from core import clock
from users.models import User

from . import permissions, selectors
from .calendar_grid import CalendarParamsError, calendar_page, calendar_params, calendar_window
from .search import SearchParams, SearchParamsError, event_search, parse_search_params

# One page of the search, as many as the search gives at once: the map and the calendar
# say when there are more.
MAP_EVENTS = CALENDAR_EVENTS = 100


def _search_params(request) -> SearchParams:
    return replace(
        parse_search_params(request.GET),
        visibilities=permissions.listable_visibilities(request.user),
    )


class _ErrorsAre400(TemplateView):
    def render_to_response(self, context, **response_kwargs):
        if "errors" in context:
            response_kwargs["status"] = 400
        return super().render_to_response(context, **response_kwargs)


class SearchMapView(_ErrorsAre400):
    """The current search's events on the campus map, and as the list they are."""

    template_name = "events/search_map.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.request.GET, **kwargs)
        try:
            params = _search_params(self.request)
        except SearchParamsError as error:
            context["errors"] = error.fields
            return context
        results = event_search(params, page=1, page_size=MAP_EVENTS)
        placed = [event for event in results.events if event.latitude is not None]
        context.update(
            results=results,
            events=results.events,
            unplaced_count=len(results.events) - len(placed),
            markers=[
                {
                    "title": event.title,
                    "url": event.get_absolute_url(),
                    "lat": event.latitude,
                    "lng": event.longitude,
                    "when": clock.local_text(event.starts_at, "D, M j · g:i A"),
                    "place": event.location_name,
                }
                for event in placed
            ],
            tile_url=settings.MAP_TILE_URL,
            tile_attribution=settings.MAP_TILE_ATTRIBUTION,
            my_statuses=selectors.registration_statuses(
                user=self.request.user, event_ids=[event.pk for event in results.events]
            ),
        )
        return context


def _calendar_context(request) -> dict:
    """The view and day asked for, with the grid's window; CalendarParamsError if bad."""
    view, anchor = calendar_params(
        request.GET.get("view"), request.GET.get("date"), today=clock.local_date()
    )
    return {"view": view, "anchor": anchor, "window": calendar_window(view, anchor)}


class SearchCalendarView(_ErrorsAre400):
    """The current search's events in a week or a month."""

    template_name = "events/search_calendar.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.request.GET, **kwargs)
        try:
            params = _search_params(self.request)
            shown = _calendar_context(self.request)
        except SearchParamsError as error:
            context["errors"] = error.fields
            return context
        except CalendarParamsError as error:
            context["errors"] = {"date": [error.message]}
            return context
        first, after = shown["window"]
        last = after - dt.timedelta(days=1)
        date_from = max(first, params.date_from or first)
        date_to = min(last, params.date_to or last)
        events: list = []
        total = 0
        if date_from <= date_to:
            # Past days of the window are shown too: the window bounds the search.
            window_params = replace(
                params, date_from=date_from, date_to=date_to, include_past=True, sort="start"
            )
            results = event_search(window_params, page=1, page_size=CALENDAR_EVENTS)
            events, total = results.events, results.total
        context.update(
            calendar=calendar_page(shown["view"], shown["anchor"], events),
            total=total,
            shown_count=len(events),
        )
        return context


class MyEventsCalendarView(LoginRequiredMixin, _ErrorsAre400):
    """The events the student registered for (or waits for), in a week or a month."""

    template_name = "events/my_events_calendar.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(query=self.request.GET, **kwargs)
        try:
            shown = _calendar_context(self.request)
        except CalendarParamsError as error:
            context["errors"] = {"date": [error.message]}
            return context
        first, after = shown["window"]
        events = selectors.registered_events_between(
            user=cast(User, self.request.user),
            starts_at=clock.midnight(first),
            ends_at=clock.midnight(after),
        )
        context["calendar"] = calendar_page(shown["view"], shown["anchor"], events)
        return context
