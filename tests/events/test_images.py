"""Cover images: checked by content, resized, EXIF dropped, stored on the local disk."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from events import services
from events.images import IMAGE_MAX_BYTES
from events.models import EventPost
from tests.factories import EventPostFactory, OrganizerFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


def photo(width=1200, height=900, *, gps=True, image_format="JPEG") -> bytes:
    """A picture with EXIF (a GPS position and a camera serial), as phones write them."""
    image = Image.new("RGB", (width, height), (200, 30, 40))
    exif = Image.Exif()
    if gps:
        exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
        exif[0x8825] = {1: "N", 2: (38.0, 38.0, 53.0)}  # GPSInfo
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, exif=exif)
    return buffer.getvalue()


@pytest.fixture
def event():
    return EventPostFactory(organizer=OrganizerFactory(), title="Spring concert")


def test_upload_is_resized_stripped_of_exif_stored_and_shown(
    client, event, django_capture_on_commit_callbacks
):
    client.force_login(event.organizer)
    # Named like a PDF: the content decides, not the name.
    upload = SimpleUploadedFile("concert.pdf", photo(), content_type="application/pdf")
    response = client.post(
        reverse("events:image", args=[event.pk]), {"image": upload, "alt": "The choir on stage"}
    )
    assert response.status_code == 302
    event.refresh_from_db()
    widths = {}
    for field in ("image_large", "image_medium", "image_small"):
        name = getattr(event, field).name
        assert default_storage.exists(name)
        with default_storage.open(name) as stored, Image.open(stored) as image:
            widths[field] = image.size
            assert image.format == "JPEG"
            assert not image.getexif()
    assert widths == {
        "image_large": (1200, 900),
        "image_medium": (800, 600),
        "image_small": (400, 300),
    }
    page = client.get(event.get_absolute_url()).content.decode()
    assert event.image_large.url in page
    assert 'alt="The choir on stage"' in page
    card = client.get(reverse("events:list")).content.decode()
    assert event.image_small.url in card
    body = client.get(f"{API}/events/{event.pk}").json()
    assert body["image"]["alt"] == "The choir on stage"
    assert body["image"]["small"].endswith(event.image_small.url)

    # Replacing deletes the old files once the change commits.
    old = event.image_large.name
    with django_capture_on_commit_callbacks(execute=True):
        services.event_image_set(
            event_id=event.pk, by=event.organizer, data=photo(gps=False), alt="Again"
        )
    assert not default_storage.exists(old)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "The file is empty.", id="empty"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "not a picture we can read",
            id="svg-with-script",
        ),
        pytest.param(b"%PDF-1.4 not an image", "not a picture we can read", id="pdf"),
        pytest.param(photo()[:300], "not a picture we can read", id="truncated"),
        pytest.param(b"\xff" * (IMAGE_MAX_BYTES + 1), "at most 5 MB", id="too-large"),
        pytest.param(photo(100, 100), "too small", id="tiny"),
    ],
)
def test_bad_uploads_are_422_with_a_reason_and_nothing_saved(client, event, content, message):
    client.force_login(event.organizer)
    response = client.post(
        f"{API}/events/{event.pk}/image",
        {"image": SimpleUploadedFile("cover.jpg", content, content_type="image/jpeg"), "alt": "x"},
    )
    assert response.status_code == 422
    assert message in response.json()["error"]["fields"]["image"][0]
    event.refresh_from_db()
    assert (event.image_large.name, event.image_alt) == ("", "")


def test_alt_text_is_required_and_others_may_not_upload(client, event):
    client.force_login(event.organizer)
    page = client.post(
        reverse("events:image", args=[event.pk]),
        {"image": SimpleUploadedFile("a.png", photo(image_format="PNG")), "alt": "  "},
    )
    assert page.status_code == 200
    assert page.context["form"].errors["alt"]
    client.force_login(OrganizerFactory())
    response = client.post(
        f"{API}/events/{event.pk}/image",
        {"image": SimpleUploadedFile("a.png", photo(image_format="PNG")), "alt": "A poster"},
    )
    assert response.status_code == 403
    assert EventPost.objects.get(pk=event.pk).image_small.name == ""
