from allauth.account import forms as allauth_forms
from allauth.core import context, ratelimit
from django import forms
from django.contrib.auth import forms as auth_forms

from events.access import feature_choices_explained

from .addresses import email_canonical
from .models import User


class LoginForm(allauth_forms.LoginForm):
    """allauth's login, with the address in its canonical form: the account is found, and
    the failed-login limit counted, under the one spelling of the mailbox."""

    def clean_login(self) -> str:
        return email_canonical(super().clean_login())


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up, limited per address as well as per IP: each sign-up naming an
    address mails its owner (a code, or "you already have an account")."""

    def clean_email(self) -> str:
        email = super().clean_email()
        if email and not ratelimit.consume(context.request, action="signup_email", key=email):
            raise forms.ValidationError(
                "There have been too many sign-ups with this address. Please try again later, "
                "or log in if the account is yours.",
                code="too_many_signups",
            )
        return email


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    """allauth's "forgot password", sending to (and limiting per) the canonical address.

    allauth's form looks the account up by the cleaned address but sends to, and keys its
    per-address limit on, the address as typed: `alice+1@`, `alice+2@`… would each get a
    count of their own.
    """

    def clean_email(self) -> str:
        super().clean_email()
        return email_canonical(self.cleaned_data["email"])


class AdminUserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class ProfileForm(forms.ModelForm):
    access_needs = forms.MultipleChoiceField(
        label="My access needs",
        choices=feature_choices_explained,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Optional and private: events that meet every need you tick come first in "
        "“For you”, and search can show only them. Only you see this.",
    )

    class Meta:
        model = User
        fields = (
            "display_name",
            "leaderboard_visibility",
            "pseudonym",
            "email_reminders",
            "access_needs",
        )
        labels = {
            "email_reminders": "E-mail me a reminder the day before my events",
            "display_name": "Your name",
            "leaderboard_visibility": "On the E-score leaderboard",
            "pseudonym": "Pseudonym",
        }
        help_texts = {
            "display_name": "Shown to organizers and, if you choose, on the leaderboard.",
            "leaderboard_visibility": (
                "A pseudonym unless you choose otherwise; only signed-in WashU accounts see the "
                "leaderboard. Hidden students still see their own rank."
            ),
            "pseudonym": "Shown instead of your name; change it as you like.",
            "email_reminders": "Confirmations, changes and cancellations always come.",
        }
        widgets = {"leaderboard_visibility": forms.RadioSelect}

    def _post_clean(self):
        # users.services.user_profile_update validates and saves.
        pass


class OrganizerRequestForm(forms.Form):
    reason = forms.CharField(
        label="What would you like to organize?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
    )


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password, to confirm", widget=forms.PasswordInput, strip=False
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password
