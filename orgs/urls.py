from django.urls import path

from . import views

app_name = "orgs"

urlpatterns = [
    path("orgs/", views.OrganizationListView.as_view(), name="list"),
    path("orgs/invitations/<str:token>/", views.invitation, name="invitation"),
    path("orgs/digest-off/<str:token>", views.digest_off, name="digest-off"),
    path("me/following/", views.following, name="following"),
    path("orgs/<slug:slug>/", views.organization_detail, name="detail"),
    path("orgs/<slug:slug>/calendar.ics", views.organization_calendar, name="calendar"),
    path("orgs/<slug:slug>/follow", views.follow, name="follow"),
    path("orgs/<slug:slug>/membership", views.membership, name="membership"),
    path("orgs/<slug:slug>/edit", views.organization_edit, name="edit"),
    path("orgs/<slug:slug>/officers/", views.officers, name="officers"),
    path("orgs/<slug:slug>/officers/invite", views.officer_invite, name="officer-invite"),
    path("orgs/<slug:slug>/officers/role", views.officer_role, name="officer-role"),
    path("orgs/<slug:slug>/officers/hand-over", views.hand_over, name="hand-over"),
    path("orgs/<slug:slug>/members/", views.members, name="members"),
    path("orgs/<slug:slug>/members.csv", views.roster_csv, name="roster-csv"),
]
