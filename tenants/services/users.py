from django.contrib.auth import get_user_model
from django.db import transaction

from tenants.services.errors import ServiceError


@transaction.atomic
def user_ensure(*, username: str, email: str = ""):
    """The user with this username, created without a usable password (API-key users never log in) if new.

    Usernames are global, like the Django admin's: adding "alice" to a second tenant binds the same person.
    """
    username = (username or "").strip()
    if not username:
        raise ServiceError("Give the member a username.", field="username")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=email or "")
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    return user
