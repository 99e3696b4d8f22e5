from typing import cast

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.charts import Point, horizontal_bar_chart, line_chart
from events.errors import EmailUnverified, NotAuthenticated
from users.models import User

from . import selectors
from .access import leaderboard_check_viewer


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
        return super().get_context_data(board=board, **kwargs)


@method_decorator(never_cache, name="dispatch")
class MyEscoreView(LoginRequiredMixin, TemplateView):
    """The student's total, term total and every entry, so they can see why they have it."""

    template_name = "escore/my_escore.html"

    def get_context_data(self, **kwargs):
        summary = selectors.escore_summary(user=cast(User, self.request.user))
        pictures = selectors.escore_pictures(summary)
        term_points = [
            Point(label=f"{day:%b} {day.day}", value=total) for day, total in pictures.term_by_week
        ]
        category_points = [Point(label=name, value=points) for name, points in pictures.by_category]
        return super().get_context_data(
            summary=summary,
            term_points=term_points,
            term_chart=line_chart(
                term_points, title=f"Your points over {summary.term}", labels_every=4
            ),
            category_points=category_points,
            category_chart=horizontal_bar_chart(category_points, title="Your points by category"),
            **kwargs,
        )
