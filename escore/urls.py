from django.urls import path

from . import views

app_name = "escore"

urlpatterns = [
    path("leaderboard/", views.LeaderboardPageView.as_view(), name="leaderboard"),
    path("me/escore/", views.MyEscoreView.as_view(), name="mine"),
    path("me/escore/disputes", views.dispute_create, name="dispute-create"),
    path("organize/disputes/", views.dispute_list, name="disputes"),
    path(
        "organize/disputes/<int:pk>/accept",
        views.dispute_decide,
        {"decision": "accept"},
        name="dispute-accept",
    ),
    path(
        "organize/disputes/<int:pk>/reject",
        views.dispute_decide,
        {"decision": "reject"},
        name="dispute-reject",
    ),
]
