from django import forms
from django.contrib.auth import forms as auth_forms

from .models import User


class AdminUserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name", "leaderboard_visibility", "pseudonym")
        labels = {
            "display_name": "Your name",
            "leaderboard_visibility": "On the E-score leaderboard",
            "pseudonym": "Pseudonym",
        }
        help_texts = {
            "display_name": "Shown to organizers and, if you choose, on the leaderboard.",
            "leaderboard_visibility": "Hidden students still see their own rank.",
            "pseudonym": "Only used when you choose to show a pseudonym.",
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
