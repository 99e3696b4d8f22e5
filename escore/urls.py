from django.urls import path

from . import views

app_name = "escore"

urlpatterns = [
    path("leaderboard/", views.LeaderboardPageView.as_view(), name="leaderboard"),
    path("me/escore/", views.MyEscoreView.as_view(), name="mine"),
]
