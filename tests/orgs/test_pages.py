"""Organization pages, API and the weekly digest, end to end through the views."""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from events.models import EventPost
from orgs import digest
from orgs.models import DigestSettings, Membership, Officer, Organization, OrganizationFollow
from orgs.selectors import followed_events
from tests.conftest import sign_in
from tests.factories import (
    EventCategoryFactory,
    EventPostFactory,
    MembershipFactory,
    OfficerFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def club():
    return OrganizationFactory(name="Chess Club", slug="chess", description="Blitz on Fridays.")


def test_unknown_or_unapproved_slugs_are_404(client, club):
    OrganizationFactory(slug="pending", status=Organization.Status.PENDING, approved_at=None)
    for slug in ("nope", "pending"):
        assert client.get(reverse("orgs:detail", args=[slug])).status_code == 404
        assert client.get(f"/api/v1/orgs/{slug}").json()["error"]["code"] == "not_found"
    sign_in(client, UserFactory())
    assert client.post(reverse("orgs:follow", args=["nope"])).status_code == 404


def test_directory_searches_names_and_descriptions(client, club):
    OrganizationFactory(name="Go Society", slug="go")
    page = client.get(reverse("orgs:list"), {"q": "blitz"}).content.decode()
    assert "Chess Club" in page
    assert "Go Society" not in page
    api = client.get("/api/v1/orgs", {"q": "society"}).json()
    assert [org["slug"] for org in api["results"]] == ["go"]


def test_student_follows_joins_and_sees_the_clubs_events_at_home(client, club):
    student = UserFactory()
    sign_in(client, student)
    event = EventPostFactory(title="Blitz night", organization=club)
    assert b"From organizations you follow" not in client.get(reverse("events:list")).content

    client.post(reverse("orgs:follow", args=["chess"]), {"action": "follow"})
    client.post(reverse("orgs:membership", args=["chess"]), {"action": "join"})

    home = client.get(reverse("events:list")).content.decode()
    assert "From organizations you follow" in home
    assert event.get_absolute_url() in home
    assert Membership.objects.get(user=student).status == Membership.Status.APPROVED

    client.post(reverse("orgs:follow", args=["chess"]), {"action": "unfollow"})
    client.post(reverse("orgs:membership", args=["chess"]), {"action": "leave"})
    assert not OrganizationFollow.objects.exists()
    assert not Membership.objects.exists()


def test_joining_by_approval_waits_for_an_officer_and_the_roster_is_for_officers(client, club):
    club.join_policy = Organization.JoinPolicy.APPROVAL
    club.save()
    officer = OfficerFactory(organization=club, role=Officer.Role.OFFICER).user
    student = UserFactory(display_name="=cmd|' /C calc'!A0")
    sign_in(client, student)
    client.post(reverse("orgs:membership", args=["chess"]))
    assert Membership.objects.get().status == Membership.Status.PENDING
    refused = client.get(reverse("orgs:roster-csv", args=["chess"]))
    assert refused.status_code == 403
    assert b"president and officers" in refused.content

    sign_in(client, officer)
    client.post(reverse("orgs:members", args=["chess"]), {"user": student.pk, "action": "approve"})
    assert Membership.objects.get().status == Membership.Status.APPROVED
    rows = list(
        csv.reader(
            io.StringIO(client.get(reverse("orgs:roster-csv", args=["chess"])).content.decode())
        )
    )
    assert rows[0] == ["name", "email", "status", "joined"]
    assert rows[1][:3] == ["'=cmd|' /C calc'!A0", student.email, "approved"]


def test_removing_the_last_president_on_the_page_is_refused_with_the_reason(client, club):
    president = OfficerFactory(organization=club).user
    sign_in(client, president)
    response = client.post(
        reverse("orgs:officer-role", args=["chess"]),
        {"user": president.pk, "role": "remove"},
        follow=True,
    )
    assert "always keeps at least one president" in response.content.decode()
    assert Officer.objects.get().role == Officer.Role.PRESIDENT


def test_api_follow_and_membership(client, club):
    assert client.post("/api/v1/orgs/chess/follow").status_code == 401
    student = UserFactory()
    sign_in(client, student)
    assert client.post("/api/v1/orgs/chess/follow").status_code == 204
    joined = client.post("/api/v1/orgs/chess/membership")
    assert (joined.status_code, joined.json()["status"]) == (201, "approved")
    detail = client.get("/api/v1/orgs/chess").json()
    assert (detail["following"], detail["membership"]) == (True, "approved")
    assert client.delete("/api/v1/orgs/chess/membership").status_code == 204
    assert client.delete("/api/v1/orgs/chess/follow").status_code == 204
    assert not OrganizationFollow.objects.exists()
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/orgs", "/api/v1/orgs/{slug}", "/api/v1/orgs/{slug}/follow"} <= set(
        schema["paths"]
    )


def test_weekly_digest_sends_followed_orgs_events_once_and_unsubscribes(client, side_effects):
    club = OrganizationFactory(name="Chess Club", slug="chess")
    music = EventCategoryFactory(slug="music", name="Music")
    student = UserFactory()
    OrganizationFollow.objects.create(user=student, organization=club)
    student.category_follows.create(category=music)
    EventPostFactory(title="Blitz night", organization=club)
    EventPostFactory(title="Jazz at the DUC", category=music)
    EventPostFactory(title="Members blitz", organization=club, visibility="members")

    with side_effects(execute=True):
        assert digest.digests_queue() == 1
        assert digest.digests_queue() == 1  # the same week: the outbox key keeps one
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Blitz night" in body
    assert "Jazz" not in body  # categories are off until switched on
    assert "Members blitz" not in body  # not a member
    unsubscribe = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")

    DigestSettings.objects.create(user=student, categories=True)
    assert "Jazz at the DUC" in {e.title for e in digest.digest_events(user=student)}

    path = unsubscribe.split("://", 1)[1].split("/", 1)[1]
    assert client.post("/" + path).status_code == 200
    assert not digest.digest_recipients().exists()
    assert client.post(reverse("orgs:digest-off", args=["forged"])).status_code == 400


def test_officers_page_invites_and_shows_who_did_what(client, club):
    president = OfficerFactory(organization=club, user=UserFactory(display_name="Pat")).user
    member = UserFactory()
    Membership.objects.create(
        organization=club, user=member, status="approved", approved_at=club.approved_at
    )
    sign_in(client, member)
    refused = client.get(reverse("orgs:officers", args=["chess"]))
    assert refused.status_code == 403
    assert b"Only the organization&#x27;s officers" in refused.content

    sign_in(client, president)
    client.post(
        reverse("orgs:officer-invite", args=["chess"]), {"email": "vp@wustl.edu", "role": "officer"}
    )
    page = client.get(reverse("orgs:officers", args=["chess"])).content.decode()
    assert "vp@wustl.edu" in page  # waiting invitation
    assert "Pat: Invited an officer" in page


def test_following_page_follows_categories_and_switches_the_digest(client):
    music = EventCategoryFactory(slug="music", name="Music")
    student = UserFactory()
    sign_in(client, student)
    client.post(reverse("orgs:following"), {"category": "music", "action": "follow"})
    assert list(student.category_follows.values_list("category", flat=True)) == [music.pk]
    assert client.post(reverse("orgs:following"), {"category": "nope"}).status_code == 404

    client.post(reverse("orgs:following"), {"organizations": "on", "categories": "on"})
    assert DigestSettings.objects.get(user=student).categories is True
    assert digest.digest_recipients().filter(pk=student.pk).exists()

    assert client.delete("/api/v1/categories/music/follow").status_code == 204
    assert client.post("/api/v1/categories/nope/follow").status_code == 404
    assert not student.category_follows.exists()


def test_followed_section_has_hosted_and_cohosted_upcoming_events_in_start_order(club):

    student = UserFactory()
    OrganizationFollow.objects.create(user=student, organization=club)
    now = timezone.now()

    def event(title, days, **fields):
        return EventPostFactory(
            title=title,
            starts_at=now + timedelta(days=days),
            ends_at=now + timedelta(days=days, hours=2),
            **fields,
        )

    later = event("Hosted later", 3, organization=club)
    cohosted = event("Co-hosted soon", 1, organization=OrganizationFactory())
    cohosted.cohosts.add(club)
    event("Hosted, over", -2, organization=club)
    event("Hosted draft", 2, organization=club, status=EventPost.Status.DRAFT)
    event("Members only", 2, organization=club, visibility=EventPost.Visibility.MEMBERS)
    event("Another club's", 2, organization=OrganizationFactory())

    assert [e.title for e in followed_events(user=student)] == ["Co-hosted soon", "Hosted later"]
    MembershipFactory(user=student, organization=club)
    assert [e.title for e in followed_events(user=student)] == [
        "Co-hosted soon",
        "Members only",
        "Hosted later",
    ]
    assert [e.pk for e in followed_events(user=student, limit=1)] == [cohosted.pk]
    assert later.pk in {e.pk for e in followed_events(user=student)}
