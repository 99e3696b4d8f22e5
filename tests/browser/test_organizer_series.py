"""An organizer sets up a weekly series with a cover image and a question; a student answers."""

import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from events.models import EventPost, RegistrationAnswer
from tests.factories import EventCategoryFactory, OrganizerFactory, UserFactory

from .test_accounts_and_check_in import log_in, log_out

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]
PASSWORD = "correct-horse-battery"


def poster() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 400), (165, 20, 23)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_weekly_series_with_image_and_question_answered_by_a_student(live_server, page):
    EventCategoryFactory(name="Music", slug="music")
    OrganizerFactory(email="dana@wustl.edu", display_name="Dana")
    student = UserFactory(email="bear@wustl.edu", display_name="Bear")
    base = live_server.url
    today = timezone.localdate()
    first_tuesday = today + dt.timedelta(days=(1 - today.weekday()) % 7 + 7)

    log_in(page, base, "dana@wustl.edu", PASSWORD)
    page.goto(f"{base}/organize/events/new")
    page.get_by_label("Title").fill("Jam session")
    page.get_by_label("Category").select_option(label="Music")
    page.get_by_label("Starts (Central time)").fill(f"{first_tuesday}T18:00")
    page.get_by_label("Ends (Central time)").fill(f"{first_tuesday}T20:00")
    page.get_by_label("Place", exact=True).fill("Music building")
    page.get_by_label("Capacity").fill("12")
    page.get_by_label("Repeat").select_option(label="Weekly on chosen weekdays, until a date")
    page.get_by_label("Tuesday").check()
    page.get_by_label("Thursday").check()
    page.get_by_label("Until (last date)").fill(str(first_tuesday + dt.timedelta(days=16)))
    page.snap("new-series")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved 6 events as drafts")).to_be_visible()

    page.get_by_role("link", name="Cover image").click()
    page.get_by_label(re.compile("^Picture")).set_input_files(
        {"name": "band.jpg", "mimeType": "image/jpeg", "buffer": poster()}
    )
    page.get_by_label("Describe the picture (alt text)").fill("The band on stage")
    page.get_by_label("Also on the following events of this series").check()
    page.get_by_role("button", name="Save the picture").click()
    expect(page.get_by_text("Cover image saved.")).to_be_visible()

    page.get_by_role("link", name=re.compile("Registration questions")).click()
    page.get_by_label("Question", exact=True).fill("Which instrument?")
    page.get_by_label("Answer", exact=True).select_option(label="Choice")
    page.get_by_label("Options (choice only, one per line)").fill("Guitar\nDrums\nVoice")
    page.get_by_label("Required").check()
    page.get_by_label("Also on the following events of this series").check()
    page.get_by_role("button", name="Add the question").click()
    page.snap("questions")
    expect(page.get_by_text("Question added.")).to_be_visible()

    page.get_by_role("link", name=re.compile("Jam session")).click()
    page.get_by_role("button", name="Publish this and all following").click()
    expect(page.get_by_text("Published this event and the following ones")).to_be_visible()
    occurrences = list(EventPost.objects.order_by("starts_at"))
    assert [event.status for event in occurrences] == ["published"] * 6
    assert all(event.image_small and event.questions.count() == 1 for event in occurrences)
    log_out(page)

    # The student registers for the second week's Thursday, answering the question.
    thursday = occurrences[3]
    log_in(page, base, "bear@wustl.edu", PASSWORD)
    page.goto(base + thursday.get_absolute_url())
    expect(page.get_by_role("img", name="The band on stage")).to_have_count(1)
    page.get_by_label("Which instrument?").select_option("Drums")
    page.snap("student-answers")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("You're registered. See you there!")).to_be_visible()
    answer = RegistrationAnswer.objects.get(registration__user=student)
    assert (answer.registration.event_id, answer.value) == (thursday.pk, "Drums")
