from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from core.charts import Point, horizontal_bar_chart, line_chart
from core.errors import UserError
from events.errors import ActionForbidden, EmailUnverified, NotAuthenticated
from users.models import User
from users.requests import AuthenticatedRequest

from . import selectors, services
from .access import disputes_check_decider, leaderboard_check_viewer
from .forms import DecisionForm, DisputeForm
from .models import ScoreDispute


@method_decorator(never_cache, name="dispatch")
class LeaderboardPageView(TemplateView):
    """Top 50 for the current term or all time, and the viewer's own rank (hidden or not);
    for signed-in WashU accounts only (escore.access)."""

    template_name = "escore/leaderboard.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            leaderboard_check_viewer(user=request.user)
        except NotAuthenticated:
            return redirect_to_login(request.get_full_path())
        except EmailUnverified as error:
            messages.info(request, error.message)
            return redirect("users:verify-email")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        scope = self.request.GET.get("term")
        scope = scope if scope in selectors.SCOPES else "current"
        board = selectors.leaderboard_get(scope=scope, user=self.request.user)
        return super().get_context_data(
            board=board, rows_cache_seconds=settings.LEADERBOARD_CACHE_SECONDS, **kwargs
        )


@method_decorator(never_cache, name="dispatch")
class MyEscoreView(LoginRequiredMixin, TemplateView):
    """The student's total, term total and every entry, so they can see why they have it."""

    template_name = "escore/my_escore.html"

    def get_context_data(self, **kwargs):
        user = cast(User, self.request.user)
        summary = selectors.escore_summary(user=user)
        pictures = selectors.escore_pictures(summary)
        term_points = [
            Point(label=f"{day:%b} {day.day}", value=total) for day, total in pictures.term_by_week
        ]
        category_points = [Point(label=name, value=points) for name, points in pictures.by_category]
        event_text = self.request.GET.get("event", "")
        initial = (
            {"event_id": int(event_text)} if event_text.isdecimal() and len(event_text) < 10 else {}
        )
        return super().get_context_data(
            summary=summary,
            term_points=term_points,
            term_chart=line_chart(
                term_points, title=f"Your points over {summary.term}", labels_every=4
            ),
            category_points=category_points,
            category_chart=horizontal_bar_chart(category_points, title="Your points by category"),
            disputes=selectors.disputes_of(user=user),
            dispute_events=selectors.dispute_candidates(user=user),
            dispute_form=DisputeForm(initial=initial),
            window_days=ScoreDispute.WINDOW_DAYS,
            **kwargs,
        )


@require_POST
@login_required
def dispute_create(request: AuthenticatedRequest) -> HttpResponse:
    """The student disputes a missing entry: "I was at this event but was not checked in"."""
    form = DisputeForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            messages.error(request, " ".join(str(message) for message in field_errors))
        return redirect(reverse("escore:mine") + "#dispute")
    try:
        dispute = services.dispute_create(user=request.user, **form.cleaned_data)
    except UserError as error:
        messages.error(request, error.message)
        return redirect(reverse("escore:mine") + "#dispute")
    messages.success(
        request,
        f"Your dispute about “{dispute.event.title}” is sent; the organizer decides, "
        "and you'll get an e-mail.",
    )
    return redirect(reverse("escore:mine") + "#disputes")


@login_required
def dispute_list(request: AuthenticatedRequest) -> HttpResponse:
    """Open disputes for the events the user runs (staff: every one), to accept or reject."""
    user = request.user
    try:
        disputes_check_decider(user=user)
    except ActionForbidden as error:
        raise PermissionDenied(error.message) from error
    context = {"disputes": selectors.disputes_pending_for(user=user), "form": DecisionForm()}
    return render(request, "escore/disputes.html", context)


@require_POST
@login_required
def dispute_decide(request: AuthenticatedRequest, pk: int, decision: str) -> HttpResponse:
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if decision == "accept":
            dispute = services.dispute_accept(dispute_id=pk, by=request.user)
            messages.success(
                request, f"Accepted: {dispute.user.get_full_name()} is checked in and credited."
            )
        else:
            dispute = services.dispute_reject(dispute_id=pk, by=request.user, reason=reason)
            messages.success(request, f"Rejected; {dispute.user.get_full_name()} is told why.")
    except services.DisputeNotFound as error:
        raise Http404(error.message) from error
    except ActionForbidden as error:
        raise PermissionDenied(error.message) from error
    except UserError as error:
        messages.error(request, error.message)
    return redirect("escore:disputes")
