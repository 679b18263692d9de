"""Users of tenants. A tenant's users live in its own namespace: the platform-wide username of a user a tenant
creates is `<name>@<tenant slug>` (slugs are immutable and hold no "@"), so no tenant can squat another's names,
attach a user it does not own, or learn whether a name is taken elsewhere. Linking an existing user of another
tenant is a staff action."""

from django.contrib.auth import get_user_model
from django.db import transaction

from tenants.models import Tenant
from tenants.services.errors import ConflictError, ServiceError

USERNAME_MAX_LENGTH = 150


def tenant_username(*, tenant: Tenant, name: str) -> str:
    return f"{name}@{tenant.slug}"


def user_is_tenant_owned(*, user, tenant: Tenant) -> bool:
    """True for a user in `tenant`'s namespace that no other tenant and no staff power has a hold on."""
    return (
        user.get_username().endswith(f"@{tenant.slug}")
        and not user.is_staff
        and not user.is_superuser
        and not user.tenant_memberships.exclude(tenant=tenant).exists()
    )


@transaction.atomic
def user_create_for_tenant(*, tenant: Tenant, username: str, email: str = ""):
    """A user of `tenant` named `<username>@<tenant slug>`, created without a usable password (API-key users
    never log in). A former member of the tenant with that name is returned, so removing and re-adding works."""
    name = (username or "").strip()
    if not name:
        raise ServiceError("Give the member a username.", field="username")
    room = USERNAME_MAX_LENGTH - len(tenant.slug) - 1
    if len(name) > room:
        raise ServiceError(f"Usernames in tenant {tenant.slug!r} have at most {room} characters.", field="username")
    User = get_user_model()
    full_name = tenant_username(tenant=tenant, name=name)
    user = User.objects.select_for_update().filter(username=full_name).first()
    if user is None:
        user = User(username=full_name, email=email or "")
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        return user
    if not user_is_tenant_owned(user=user, tenant=tenant):
        # Only names made before tenant namespaces existed can be held elsewhere; say nothing about the holder.
        raise ConflictError(f"The username {name!r} is not available in this tenant; pick another.", field="username")
    return user


def user_ensure(*, username: str, email: str = ""):
    """The platform user with exactly this username, created without a usable password if new. For staff,
    the commands and benches; tenant callers go through user_create_for_tenant."""
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
