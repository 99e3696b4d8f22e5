"""Cards with pictures, the map view and the week/month calendars (issue 24)."""

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from events.calendar_grid import calendar_page, calendar_window
from events.models import EventPost
from events.search import event_search, parse_search_params
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    EventRegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
CENTRAL = ZoneInfo("America/Chicago")


def central(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CENTRAL)


def _cards(html: str) -> list[str]:
    return re.findall(r'<li class="card">.*?</li>', html, flags=re.S)


# --- cards ----------------------------------------------------------------------------------


def test_cards_show_the_category_picture_date_badge_and_the_students_status(client):
    category = EventCategoryFactory(name="Music", slug="music")
    other = EventCategoryFactory(name="Odd", slug="no-picture-for-this")
    starts = dt.datetime.now(CENTRAL).replace(microsecond=0) + dt.timedelta(days=3)
    mine = EventPostFactory(title="Jazz night", category=category, starts_at=starts, capacity=9)
    EventPostFactory(title="Odd event", category=other, starts_at=starts)
    student = UserFactory()
    EventRegistrationFactory(event=mine, user=student)
    client.force_login(student)

    html = client.get("/").content.decode()

    jazz = next(card for card in _cards(html) if "Jazz night" in card)
    assert 'src="/static/img/categories/music.svg"' in jazz
    assert 'alt=""' in jazz  # the category's picture only decorates
    assert 'width="400" height="200"' in jazz
    assert 'loading="lazy"' in jazz
    assert f'<span class="month">{starts:%b}</span><span class="day">{starts.day}</span>' in jazz
    assert "You&#x27;re registered" in jazz
    assert "9 spots left" in jazz
    odd = next(card for card in _cards(html) if "Odd event" in card)
    assert 'src="/static/img/event-default.svg"' in odd
    assert "registered" not in odd


def test_a_cover_image_card_has_its_alt_text_and_a_srcset():
    event = EventPostFactory(
        image_small="covers/s.jpg", image_medium="covers/m.jpg", image_alt="Students at a piano"
    )
    html = Template("{% load event_tags %}{% event_card event %}").render(Context({"event": event}))
    assert 'alt="Students at a piano"' in html
    assert 'srcset="/media/covers/s.jpg 400w, /media/covers/m.jpg 800w"' in html
    assert 'width="400" height="200"' in html


def test_search_cards_are_the_home_pages_cards(client):
    """The search builds its cards in Python from its own row; they match the home page's."""
    category = EventCategoryFactory(name="Tech", slug="tech")
    EventPostFactory(title="Robot demo", category=category, location_name="Jubel Hall")
    home = _cards(client.get("/").content.decode())
    request = RequestFactory().get("/search/")
    results = event_search(parse_search_params(request.GET))
    searched = Template("{% load event_tags %}{% search_card event %}").render(
        Context({"event": results.events[0]})
    )
    assert home == [searched]


# --- calendar -------------------------------------------------------------------------------


def test_a_week_runs_sunday_to_saturday_in_campus_time_across_the_dst_change():
    # Daylight saving time ends on Sunday, November 1, 2026: this week is 169 hours long.
    first, after = calendar_window("week", dt.date(2026, 11, 4))
    assert (first, after) == (dt.date(2026, 11, 1), dt.date(2026, 11, 8))
    late_saturday = EventPost(title="Late", starts_at=central(2026, 11, 7, 23, 30))
    before = EventPost(title="Halloween", starts_at=central(2026, 10, 31, 23, 30))
    page = calendar_page("week", dt.date(2026, 11, 4), [late_saturday, before])
    assert page.ends_at.astimezone(dt.UTC) - page.starts_at.astimezone(dt.UTC) == dt.timedelta(
        hours=169
    )
    assert [day.date.weekday() for day in page.days] == [6, 0, 1, 2, 3, 4, 5]
    assert page.days[-1].events == [late_saturday]  # 05:30 UTC on Sunday, still Saturday here
    assert all(before not in day.events for day in page.days)
    assert (page.previous, page.next) == (dt.date(2026, 10, 25), dt.date(2026, 11, 8))


def test_a_month_grid_is_whole_weeks_with_the_other_months_days_marked():
    page = calendar_page("month", dt.date(2027, 2, 10), [], today=dt.date(2027, 2, 14))
    # February 2027 starts on a Monday and ends on a Sunday: five rows, Sunday first.
    assert len(page.weeks) == 5
    assert page.weeks[0][0].date == dt.date(2027, 1, 31)
    assert page.weeks[-1][-1].date == dt.date(2027, 3, 6)
    assert not page.weeks[0][0].in_month
    assert [day.date for day in page.days if day.is_today] == [dt.date(2027, 2, 14)]
    assert (page.previous, page.next) == (dt.date(2027, 1, 1), dt.date(2027, 3, 1))


def test_search_calendar_shows_the_searchs_events_in_the_week_with_links(client):
    monday = dt.datetime.now(CENTRAL).date() + dt.timedelta(days=14)
    monday -= dt.timedelta(days=monday.weekday())
    at = dt.datetime.combine(monday, dt.time(18), CENTRAL)
    EventPostFactory(title="Chess night", starts_at=at)
    EventPostFactory(title="Chess later", starts_at=at + dt.timedelta(days=8))
    EventPostFactory(title="Poetry slam", starts_at=at)

    response = client.get(reverse("events:search-calendar"), {"q": "chess", "date": monday})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Chess night" in html
    assert "Chess later" not in html
    assert "Poetry slam" not in html
    assert f'<time datetime="{monday:%Y-%m-%d}">' in html
    previous = monday - dt.timedelta(days=8)  # the Sunday before the week's Sunday
    assert f"date={previous:%Y-%m-%d}" in html
    assert "q=chess" in html


def test_month_calendar_marks_today_and_bad_dates_are_a_400(client):
    html = client.get(reverse("events:search-calendar"), {"view": "month"}).content.decode()
    assert html.count('aria-current="date"') == 1
    assert '<th scope="col">' in html
    for bad in ({"date": "2026-02-30"}, {"date": "99999-01-01"}, {"view": "year"}):
        response = client.get(reverse("events:search-calendar"), bad)
        assert response.status_code == 400, bad
        assert b'role="alert"' in response.content


def test_my_events_calendar_shows_my_registrations_only(client):
    student = UserFactory()
    soon = dt.datetime.now(CENTRAL).replace(hour=12) + dt.timedelta(days=1)
    mine = EventPostFactory(title="My lecture", starts_at=soon)
    waiting = EventPostFactory(title="Full lecture", starts_at=soon, capacity=1)
    EventPostFactory(title="Not mine", starts_at=soon)
    EventRegistrationFactory(event=mine, user=student)
    EventRegistrationFactory(event=waiting, user=student, status="waitlisted")
    client.force_login(student)

    html = client.get(
        reverse("events:mine-calendar"), {"view": "month", "date": soon.date()}
    ).content.decode()

    assert "My lecture" in html
    assert 'Full lecture</a> <span class="badge">waitlist</span>' in html
    assert "Not mine" not in html
    assert client.get(reverse("events:mine-calendar"), {"date": "x"}).status_code == 400


# --- map ------------------------------------------------------------------------------------


def test_map_page_embeds_placed_events_and_the_configured_tiles(client, settings):
    settings.MAP_TILE_URL = "https://tiles.example.test/{z}/{x}/{y}.png"
    EventPostFactory(title="On the quad", latitude=38.648, longitude=-90.305)
    EventPostFactory(title="Online talk", latitude=None, longitude=None)

    response = client.get(reverse("events:search-map"))

    html = response.content.decode()
    assert 'data-tiles="https://tiles.example.test/{z}/{x}/{y}.png"' in html
    markers = json.loads(
        re.search(r'<script id="event-map-markers" type="application/json">(.*?)</script>', html)[1]
    )
    assert [(m["title"], m["lat"], m["lng"]) for m in markers] == [("On the quad", 38.648, -90.305)]
    assert markers[0]["url"].startswith("/events/")
    # Both are in the list, which stays the primary view; the one without a place says so.
    assert "On the quad" in html
    assert "Online talk" in html
    assert "1 without a place on the map" in html
    assert "vendor/leaflet/leaflet.js" in html


def test_only_the_map_page_loads_leaflet(client):
    EventPostFactory()
    for url in ("/", reverse("events:search"), reverse("events:search-calendar")):
        assert b"leaflet" not in client.get(url).content, url


def test_map_page_with_bad_filters_is_a_400_without_the_map(client):
    response = client.get(reverse("events:search-map"), {"category": "nope"})
    assert response.status_code == 400
    assert b"event-map-markers" not in response.content


def test_vendored_leaflet_is_exactly_the_pinned_npm_packages():
    """static/vendor/ is what `make vendor-static` copies from deploy/tools/package.json's
    versions (installed by `make deploy-tools`, which `make test` runs first)."""
    root = Path(__file__).resolve().parents[2]
    modules = root / ".tools/npm/node_modules"
    if not modules.exists():
        pytest.fail(f"npm packages not found at {modules}: run `make deploy-tools`")
    pinned = json.loads((root / "deploy/tools/package.json").read_text())["dependencies"]
    sources = {
        "leaflet": ("leaflet/dist", "leaflet"),
        "leaflet.markercluster": ("leaflet.markercluster/dist", "leaflet.markercluster"),
    }
    for package, (dist, vendored) in sources.items():
        installed = json.loads((modules / package / "package.json").read_text())["version"]
        assert installed == pinned[package]
        for copy in (root / "static/vendor" / vendored).rglob("*"):
            if copy.is_file() and "LICEN" not in copy.name:
                relative = copy.relative_to(root / "static/vendor" / vendored)
                assert copy.read_bytes() == (modules / dist / relative).read_bytes(), copy
