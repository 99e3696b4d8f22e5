"""The SSO routes E-Ren answers itself, ahead of allauth's own at the same paths (users.sso_oidc,
users.sso_saml): same URLs, stricter checks."""

from django.urls import path

from . import sso_oidc, sso_saml

urlpatterns = [
    path("oidc/<str:provider_id>/login/", sso_oidc.login, name="openid_connect_login"),
    path(
        "oidc/<str:provider_id>/login/callback/",
        sso_oidc.callback,
        name="openid_connect_callback",
    ),
    path(
        "saml/<str:organization_slug>/acs/finish/",
        sso_saml.finish_acs,
        name="saml_finish_acs",
    ),
]
