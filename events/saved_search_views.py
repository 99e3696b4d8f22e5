"""Saved searches: save one from the search page, manage them, and their public feeds."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import UserError
from users.requests import AuthenticatedRequest

from .calendar import calendar_render
from .emails import saved_searches as saved_search_emails
from .models import SavedSearch
from .services import saved_searches

# Calendar apps poll hourly; a feed is rendered at most this often per saved search.
FEED_CACHE_SECONDS = 300
# The feed's token, shown once after it is made: kept in the session until the next page.
_NEW_FEED_SESSION_KEY = "saved_search_new_feed"


def _remember_new_feed(request: HttpRequest, saved_search_id: int, token: str) -> None:
    request.session[_NEW_FEED_SESSION_KEY] = {"id": saved_search_id, "token": token}


@login_required
def saved_search_list(request: AuthenticatedRequest) -> HttpResponse:
    """The student's saved searches; a feed URL made just now is shown (only this once)."""
    new_feed = request.session.pop(_NEW_FEED_SESSION_KEY, None)
    feed_url = None
    if new_feed:
        path = reverse("events:saved-search-feed", kwargs={"token": new_feed["token"]})
        feed_url = request.build_absolute_uri(path)
    context = {
        "saved_searches": SavedSearch.objects.filter(user=request.user),
        "new_feed_id": new_feed["id"] if new_feed else None,
        "new_feed_url": feed_url,
        # Calendar apps open webcal:// links as a subscription, not a one-off import.
        "new_feed_webcal": feed_url and "webcal://" + feed_url.split("://", 1)[1],
        "limit": SavedSearch.MAX_PER_USER,
    }
    response = render(request, "events/saved_searches.html", context)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
@login_required
def saved_search_create(request: AuthenticatedRequest) -> HttpResponse:
    try:
        saved, token = saved_searches.saved_search_create(
            user=request.user,
            name=request.POST.get("name", ""),
            query=request.POST,
            email_alerts=request.POST.get("email_alerts") == "1",
        )
    except UserError as error:
        text = error.message
        if getattr(error, "fields", None):
            text = " ".join(" ".join(field_messages) for field_messages in error.fields.values())
        messages.error(request, text)
        return redirect("events:saved-searches")
    _remember_new_feed(request, saved.pk, token)
    messages.success(
        request,
        f"Saved “{saved.name}”. Subscribe to its calendar link below; it is shown only now.",
    )
    return redirect("events:saved-searches")


def _owned_action(request: AuthenticatedRequest, pk: int, action, success: str) -> HttpResponse:
    try:
        result = action()
    except SavedSearch.DoesNotExist as error:
        raise Http404("No such saved search.") from error
    if isinstance(result, str):
        _remember_new_feed(request, pk, result)
    messages.success(request, success)
    return redirect("events:saved-searches")


@require_POST
@login_required
def saved_search_feed_rotate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _owned_action(
        request,
        pk,
        lambda: saved_searches.saved_search_feed_rotate(saved_search_id=pk, user=request.user),
        "The calendar link is new; any old one stopped working.",
    )


@require_POST
@login_required
def saved_search_feed_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _owned_action(
        request,
        pk,
        lambda: saved_searches.saved_search_feed_revoke(saved_search_id=pk, user=request.user),
        "The calendar link stopped working.",
    )


@require_POST
@login_required
def saved_search_email(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    on = request.POST.get("on") == "1"
    return _owned_action(
        request,
        pk,
        lambda: saved_searches.saved_search_email_set(saved_search_id=pk, user=request.user, on=on),
        "You'll get an e-mail when new events match (at most one a day)."
        if on
        else "No more e-mails for this search.",
    )


@require_POST
@login_required
def saved_search_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _owned_action(
        request,
        pk,
        lambda: saved_searches.saved_search_delete(saved_search_id=pk, user=request.user),
        "The saved search is deleted, and its calendar link with it.",
    )


@require_GET
def saved_search_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The saved search as a live calendar feed; the token is the key (404 when unknown or
    revoked). Upcoming matches, and cancelled ones as STATUS:CANCELLED with a higher
    SEQUENCE, so subscribed calendars update their copies."""
    saved = saved_searches.saved_search_for_feed(token=token)
    if saved is None:
        raise Http404("No such calendar feed.")
    # Keyed by the token's hash too: a new link never serves an old link's copy.
    key = f"saved-search-feed:{saved.pk}:{saved.feed_token_hash}"
    body = cache.get(key)
    if body is None:
        try:
            events = saved_searches.saved_search_matches(saved, include_cancelled=True)
        except saved_searches.SearchParamsError:
            events = []  # the query no longer parses (a category is gone): an empty calendar
        body = calendar_render(events, name=f"E-Ren: {saved.name}")
        cache.set(key, body, FEED_CACHE_SECONDS)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    # Private: the URL is a secret, no shared cache should hold it past a revocation.
    patch_cache_control(response, private=True, max_age=FEED_CACHE_SECONDS)
    return response


# Mail providers' one-click unsubscribe (RFC 8058) POSTs here without a CSRF token: the
# signed token in the URL is the credential, and all it can do is stop these e-mails.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def saved_search_email_off(request: HttpRequest, token: str) -> HttpResponse:
    template = "events/saved_search_email_off.html"
    if request.method == "GET":
        return render(request, template, {"token": token, "done": False})
    if saved_search_emails.saved_search_email_turn_off(token=token) is None:
        error = "This link is not valid. Turn the e-mails off on your Saved searches page."
        return render(request, template, {"error": error}, status=400)
    return render(request, template, {"done": True})
