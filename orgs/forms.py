"""Forms of the organization pages. Rules live in orgs.services; these only parse input."""

from django import forms
from django.db import models

from .models import Officer, Organization


def _formfield(field: models.Field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["description", "logo_url", "contact_email", "website", "join_policy", "category"]
        formfield_callback = _formfield

    def _post_clean(self):
        # The service validates with the locked row in hand.
        pass


class InviteForm(forms.Form):
    email = forms.EmailField(label="Their e-mail address", max_length=254)
    role = forms.ChoiceField(
        choices=[(Officer.Role.OFFICER, "Officer"), (Officer.Role.EVENT_MANAGER, "Event manager")]
    )


class RoleForm(forms.Form):
    user = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    role = forms.ChoiceField(choices=Officer.Role.choices)


class HandOverForm(forms.Form):
    to_email = forms.EmailField(label="E-mail of the next president", max_length=254)
    stay_as = forms.ChoiceField(
        label="Afterwards I",
        choices=[
            (Officer.Role.OFFICER, "stay on as an officer"),
            (Officer.Role.EVENT_MANAGER, "stay on as an event manager"),
            ("", "leave the officers"),
        ],
        initial=Officer.Role.OFFICER,
        required=False,
    )


class DigestForm(forms.Form):
    organizations = forms.BooleanField(
        label="E-mail me new events of organizations I follow (weekly)", required=False
    )
    categories = forms.BooleanField(
        label="E-mail me new events in categories I follow (weekly)", required=False
    )
