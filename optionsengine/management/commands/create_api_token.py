"""manage.py create_api_token USERNAME [--create-user] — print the user's API token (idempotent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from optionsengine.lib.transactions import entry_point_transaction


class Command(BaseCommand):
    help = (
        "Print the REST API token of USERNAME, creating it on first use; the same token is printed on "
        "every later run. Use it as the header `Authorization: Token <key>`."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--create-user", action="store_true",
            help="create USERNAME (without a usable password) when it does not exist",
        )

    def handle(self, *args, username: str, create_user: bool, **options):
        user_model = get_user_model()
        with entry_point_transaction():
            user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
            if user is None:
                if not create_user:
                    raise CommandError(f"no user {username!r}; pass --create-user to create one")
                user = user_model._default_manager.create_user(**{user_model.USERNAME_FIELD: username}, password=None)
            if not user.is_active:
                raise CommandError(f"user {username!r} is inactive; its token would be refused")
            token, created = Token.objects.get_or_create(user=user)
        if options["verbosity"] > 1:
            self.stderr.write(f"{'created' if created else 'existing'} token for {username}")
        self.stdout.write(token.key)
