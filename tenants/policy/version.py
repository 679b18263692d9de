from django.db.models import F

from tenants.models.policy_state import PolicyState


def policy_version() -> int:
    version = PolicyState.objects.filter(pk=1).values_list("version", flat=True).first()
    if version is None:
        PolicyState.objects.get_or_create(pk=1)
        return 0
    return version


async def apolicy_version() -> int:
    version = await PolicyState.objects.filter(pk=1).values_list("version", flat=True).afirst()
    return version or 0


def policy_version_bump() -> None:
    if not PolicyState.objects.filter(pk=1).update(version=F("version") + 1):
        PolicyState.objects.get_or_create(pk=1, defaults={"version": 1})
