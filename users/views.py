from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import UserError

from . import selectors, services
from .forms import AccountDeleteForm, OrganizerRequestForm, ProfileForm
from .models import User
from .requests import AuthenticatedRequest
from .school_email import school_email_domains_display


@login_required
def account(request: AuthenticatedRequest) -> HttpResponse:
    """Profile (name, leaderboard), e-mail and password links, the organizer role."""
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid() and _profile_saved(form, user):
        messages.success(request, "Your profile is saved.")
        return redirect("users:account")
    context = {
        "form": form,
        "email_verified": selectors.user_has_verified_school_email(user=user),
        "organizer_request": selectors.organizer_request_latest(user=user),
        "organizer_form": OrganizerRequestForm(),
    }
    return render(request, "users/account.html", context)


def _profile_saved(form: ProfileForm, user: User) -> bool:
    """Save the profile; what the service refuses becomes the form's errors."""
    try:
        services.user_profile_update(user=user, **form.cleaned_data)
    except ValidationError as error:
        for field, field_messages in error.message_dict.items():
            for message in field_messages:
                form.add_error(field if field in form.fields else None, message)
        return False
    return True


@require_POST
@login_required
def organizer_request(request: AuthenticatedRequest) -> HttpResponse:
    form = OrganizerRequestForm(request.POST)
    if form.is_valid():
        try:
            services.organizer_request_create(user=request.user, reason=form.cleaned_data["reason"])
        except services.AccountError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Your request is with staff. You'll see the answer here.")
    else:
        reason_errors = form.errors.get("reason") or ["Check the reason."]
        messages.error(request, " ".join(str(message) for message in reason_errors))
    return redirect("users:account")


@login_required
def verify_email(request: AuthenticatedRequest) -> HttpResponse:
    """Where an unverified student lands when trying to register: what to do, and a resend."""
    user = request.user
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    return render(
        request,
        "users/verify_email.html",
        {
            "address": address,
            "email_verified": selectors.user_has_verified_school_email(user=user),
            "school_domains": school_email_domains_display(),
        },
    )


@login_required
def data_export(request: AuthenticatedRequest) -> JsonResponse:
    """ "Download my data": everything kept about the account, as a JSON file."""
    data = selectors.user_data_export(user=request.user)
    response = JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="eren-my-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def account_delete(request: AuthenticatedRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_delete(user=request.user)
        except UserError as error:
            # Nothing was changed: the deletion is one transaction.
            form.add_error(None, error.message)
        else:
            logout(request)
            messages.success(request, "Your account is closed. Thank you for using E-Ren.")
            return redirect("events:list")
    return render(request, "users/account_delete.html", {"form": form})


# Mail providers' one-click unsubscribe (RFC 8058) POSTs here without a CSRF token: the
# signed token in the URL is the credential, and all it can do is turn reminders off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def reminders_off(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every reminder: GET asks to confirm (link scanners must not unsubscribe
    anyone), POST turns the reminders off. No login needed."""
    if request.method == "GET":
        return render(request, "users/reminders_off.html", {"token": token, "done": False})
    try:
        services.user_reminders_turn_off(token=token)
    except services.AccountError as error:
        return render(request, "users/reminders_off.html", {"error": error.message}, status=400)
    return render(request, "users/reminders_off.html", {"done": True})
