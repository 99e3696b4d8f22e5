"""Organization pages: directory, page, follow/join buttons, officers, members, roster.

Every view parses input and calls one service or selector. Errors map in one way: unknown
organizations 404, anonymous visitors to the login page, refusals by role 403 with the
reason, and refusals a user can act on (last president, bad e-mail) a message or form error.
"""

import csv
import io
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import ListView

from events import permissions
from events.calendar import calendar_render
from events.errors import ActionForbidden, NotAuthenticated
from events.models import EventCategory
from events.permissions import OrgAction
from users.requests import AuthenticatedRequest

from . import digest, selectors, services
from .errors import LastPresident, OrgConflict, OrgInvalid, OrgNotFound
from .forms import DigestForm, HandOverForm, InviteForm, OrganizationForm, RoleForm
from .models import Membership, Organization


def _org_or_404(slug: str) -> Organization:
    try:
        return selectors.organization_get(slug=slug)
    except Organization.DoesNotExist as error:
        raise Http404("There is no such organization.") from error


def _errors_as_http(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except OrgNotFound as error:
            raise Http404(error.message) from error
        except NotAuthenticated:
            return redirect_to_login(request.get_full_path())
        except ActionForbidden as error:
            raise PermissionDenied(error.message) from error

    return wrapper


def _require_login(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise NotAuthenticated()


class OrganizationListView(ListView):
    template_name = "orgs/organization_list.html"
    context_object_name = "organizations"
    paginate_by = 30

    def get_queryset(self):
        self.q = self.request.GET.get("q", "").strip()[:100]
        self.category_slug = self.request.GET.get("category") or None
        return selectors.organization_list(q=self.q, category_slug=self.category_slug)

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            q=self.q,
            category_slug=self.category_slug,
            categories=EventCategory.objects.order_by("name"),
            **kwargs,
        )


def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _org_or_404(slug)
    upcoming, past = selectors.organization_events(organization=organization, user=request.user)
    context: dict[str, Any] = {
        "organization": organization,
        "upcoming": upcoming,
        "past": past,
        "can_edit": permissions.org_user_can(request.user, OrgAction.EDIT, organization),
        "can_manage_members": permissions.org_user_can(
            request.user, OrgAction.MEMBERS, organization
        ),
        "can_create_events": permissions.org_user_can(
            request.user, OrgAction.CREATE_EVENT, organization
        ),
        **selectors.viewer_state(user=request.user, organization=organization),
    }
    return render(request, "orgs/organization_detail.html", context)


def organization_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's public events as a calendar feed."""
    organization = _org_or_404(slug)
    events = selectors.organization_public_feed(organization=organization)
    return HttpResponse(
        calendar_render(events, name=organization.name),
        content_type="text/calendar; charset=utf-8",
    )


@require_POST
@_errors_as_http
def follow(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    _require_login(request)
    organization = _org_or_404(slug)
    if request.POST.get("action") == "unfollow":
        services.organization_unfollow(organization_id=organization.pk, user=request.user)
        messages.success(request, f"You no longer follow {organization}.")
    else:
        services.organization_follow(organization_id=organization.pk, user=request.user)
        messages.success(
            request, f"You follow {organization}: its new events show on your home page."
        )
    return redirect(organization)


@require_POST
@_errors_as_http
def membership(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    _require_login(request)
    organization = _org_or_404(slug)
    if request.POST.get("action") == "leave":
        services.membership_leave(organization_id=organization.pk, user=request.user)
        messages.success(request, f"You left {organization}.")
        return redirect(organization)
    joined = services.membership_join(organization_id=organization.pk, user=request.user)
    if joined.status == Membership.Status.APPROVED:
        messages.success(request, f"You are a member of {organization}.")
    else:
        messages.info(request, "Asked to join: an officer will approve your membership.")
    return redirect(organization)


@_errors_as_http
def organization_edit(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    _require_login(request)
    organization = _org_or_404(slug)
    permissions.org_check_access(
        user=request.user, organization=organization, action=OrgAction.EDIT
    )
    form = OrganizationForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                organization_id=organization.pk, by=request.user, **form.cleaned_data
            )
        except OrgInvalid as error:
            for name, field_messages in error.fields.items():
                for message in field_messages:
                    form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, "Saved.")
            return redirect(organization)
    return render(
        request, "orgs/organization_edit.html", {"organization": organization, "form": form}
    )


@_errors_as_http
def officers(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The officers page: who runs it, invitations, roles, hand-over, the activity log."""
    _require_login(request)
    organization = _org_or_404(slug)
    role = permissions.org_role(request.user, organization.pk)
    if role is None and not permissions.user_is_staff(request.user):
        raise ActionForbidden("Only the organization's officers can see this page.")
    context = {
        "organization": organization,
        "officers": selectors.officer_list(organization=organization),
        "activity": selectors.activity_list(organization=organization),
        "invitations": selectors.invitations_open(organization=organization),
        "role": role,
        "can_manage": permissions.org_user_can(request.user, OrgAction.OFFICERS, organization),
        "invite_form": InviteForm(),
        "hand_over_form": HandOverForm(),
        "roles": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
    }
    return render(request, "orgs/officers.html", context)


def _officers_redirect(organization: Organization) -> HttpResponse:
    return redirect("orgs:officers", slug=organization.slug)


def _say_refusal(request: HttpRequest, error: OrgInvalid | LastPresident | OrgConflict) -> None:
    if isinstance(error, OrgInvalid):
        for field_messages in error.fields.values():
            messages.error(request, " ".join(field_messages))
    else:
        messages.error(request, error.message)


@require_POST
@_errors_as_http
def officer_invite(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    _require_login(request)
    organization = _org_or_404(slug)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Type a full e-mail address and choose a role.")
        return _officers_redirect(organization)
    try:
        services.officer_invite(
            organization_id=organization.pk, by=request.user, **form.cleaned_data
        )
    except OrgInvalid as error:
        _say_refusal(request, error)
    else:
        messages.success(request, f"Invitation e-mailed to {form.cleaned_data['email']}.")
    return _officers_redirect(organization)


@require_POST
@_errors_as_http
def officer_role(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Change a role, or remove (role=remove); an officer may remove themselves."""
    _require_login(request)
    organization = _org_or_404(slug)
    user_id = request.POST.get("user", "")
    if not user_id.isdigit():
        raise Http404("No such officer.")
    try:
        if request.POST.get("role") == "remove":
            services.officer_remove(
                organization_id=organization.pk, by=request.user, user_id=int(user_id)
            )
            messages.success(request, "Removed from the officers.")
            if int(user_id) == request.user.pk:
                return redirect(organization)
        else:
            form = RoleForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose president, officer or event manager.")
                return _officers_redirect(organization)
            services.officer_role_change(
                organization_id=organization.pk,
                by=request.user,
                user_id=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
            )
            messages.success(request, "Role changed.")
    except (OrgInvalid, LastPresident) as error:
        _say_refusal(request, error)
    return _officers_redirect(organization)


@require_POST
@_errors_as_http
def hand_over(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    _require_login(request)
    organization = _org_or_404(slug)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Type the next president's full e-mail address.")
        return _officers_redirect(organization)
    try:
        successor = services.president_hand_over(
            organization_id=organization.pk,
            by=request.user,
            to_email=form.cleaned_data["to_email"],
            stay_as=form.cleaned_data["stay_as"] or None,
        )
    except (OrgInvalid, LastPresident) as error:
        _say_refusal(request, error)
        return _officers_redirect(organization)
    messages.success(request, f"{successor.user.get_full_name()} is now president.")
    if form.cleaned_data["stay_as"]:
        return _officers_redirect(organization)
    return redirect(organization)


@_errors_as_http
def invitation(request: AuthenticatedRequest, token: str) -> HttpResponse:
    """The link in the invitation e-mail: GET shows it, POST accepts (logged in)."""
    _require_login(request)
    from .models import OfficerInvitation

    invite = get_object_or_404(
        OfficerInvitation.objects.select_related("organization"), token=token
    )
    if request.method == "POST":
        try:
            services.invitation_accept(token=token, user=request.user)
        except OrgConflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"You are now an officer of {invite.organization}.")
            return redirect("orgs:officers", slug=invite.organization.slug)
    return render(request, "orgs/invitation.html", {"invitation": invite})


@_errors_as_http
def members(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Members and requests to join; POST approves or declines one."""
    _require_login(request)
    organization = _org_or_404(slug)
    permissions.org_check_access(
        user=request.user, organization=organization, action=OrgAction.MEMBERS
    )
    if request.method == "POST":
        user_id = request.POST.get("user", "")
        if not user_id.isdigit():
            raise Http404("No such member.")
        if request.POST.get("action") == "decline":
            services.membership_decline(
                organization_id=organization.pk, by=request.user, user_id=int(user_id)
            )
            messages.success(request, "Request declined.")
        else:
            services.membership_approve(
                organization_id=organization.pk, by=request.user, user_id=int(user_id)
            )
            messages.success(request, "Member approved.")
        return redirect("orgs:members", slug=organization.slug)
    context = {
        "organization": organization,
        "memberships": selectors.membership_list(organization=organization),
    }
    return render(request, "orgs/members.html", context)


@_errors_as_http
def roster_csv(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The members as CSV, for officers."""
    _require_login(request)
    organization = _org_or_404(slug)
    permissions.org_check_access(
        user=request.user, organization=organization, action=OrgAction.MEMBERS
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "status", "joined"])
    for member in selectors.membership_list(organization=organization):
        writer.writerow(
            [
                _cell(member.user.get_full_name()),
                member.user.email,
                member.status,
                member.created_at.date().isoformat(),
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="eren-members-{organization.slug}.csv"'
    return response


def _cell(text: str) -> str:
    """No formulas in a spreadsheet cell (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@_errors_as_http
def following(request: AuthenticatedRequest) -> HttpResponse:
    """What the student follows, category follows, and the weekly digest switches."""
    _require_login(request)
    current = selectors.digest_settings(user=request.user)
    form = DigestForm(
        request.POST or None,
        initial={"organizations": current.organizations, "categories": current.categories},
    )
    if request.method == "POST":
        category_slug = request.POST.get("category")
        if category_slug:
            category = get_object_or_404(EventCategory, slug=category_slug)
            if request.POST.get("action") == "unfollow":
                services.category_unfollow(category=category, user=request.user)
            else:
                services.category_follow(category=category, user=request.user)
            return redirect("orgs:following")
        if form.is_valid():
            services.digest_settings_update(user=request.user, **form.cleaned_data)
            messages.success(request, "Saved.")
            return redirect("orgs:following")
    context = {
        "form": form,
        "organizations": selectors.followed_organizations(user=request.user),
        "categories": EventCategory.objects.order_by("name"),
        "followed_category_ids": selectors.followed_category_ids(user=request.user),
    }
    return render(request, "orgs/following.html", context)


# Mail providers' one-click unsubscribe (RFC 8058) POSTs here without a CSRF token: the
# signed token in the URL is the credential, and all it can do is turn the digest off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def digest_off(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "orgs/digest_off.html", {"token": token, "done": False})
    if digest.digest_turn_off(token=token) is None:
        error = "This link is not valid. Turn the digest off on the Following page."
        return render(request, "orgs/digest_off.html", {"error": error}, status=400)
    return render(request, "orgs/digest_off.html", {"done": True})
