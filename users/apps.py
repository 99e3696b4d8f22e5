from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        # Connects the receiver that links a waiting WUSTL Key after the account's sign-in.
        from . import sso  # noqa: F401
