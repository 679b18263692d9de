"""The answers of the decision API, computed from the policy resolver's principal and the tenancy models."""

from django.db.models import Q
from django.utils import timezone

from mcpbridge.services.quotas import quota_status
from tenants.api.caller import Caller
from tenants.api.scoping import restrict
from tenants.capabilities import ALL_CAPABILITIES
from tenants.decisions.errors import ApiError
from tenants.decisions.tools import tool_capabilities
from tenants.models import ApiKey, LimitOverride, Membership, OrgMembership, Tenant
from tenants.policy import ContextNotAllowed, Principal, ResolutionFailure, explain, principal_of, refusal_of


def _tenant_ref(principal: Principal) -> dict:
    return {"id": principal.tenant_id, "slug": principal.tenant_slug, "status": principal.tenant_status,
            "plan": principal.plan_slug}


def _usage(principal: Principal) -> dict:
    return {
        name: {"used": int(row["used"]), "max": int(row["max"]), "left": max(0, int(row["max"]) - int(row["used"]))}
        for name, row in quota_status(principal=principal).items()
    }


def decide(principal: Principal, *, tool: str | None, capability: str | None, context: str | None) -> dict:
    """May this key call `tool` (or use `capability`) in `context`, and why."""
    if (tool is None) == (capability is None):
        field = "tool" if tool is None else "capability"
        raise ApiError(400, "invalid", "Give either tool or capability, not both and not neither.",
                       {"fields": {field: ["give either tool or capability"]}})
    if tool is not None:
        known = tool_capabilities()
        if tool not in known:
            return _answer(principal, tool, None, str(principal.context), False, [f"{tool!r} is not a known tool"])
        capability = known[tool]
        if capability is None:
            try:
                where = principal.in_context(None if context == "personal" else context) if context else principal
            except ContextNotAllowed as exc:
                return _answer(principal, tool, None, context, False, [str(exc)])
            return _answer(principal, tool, None, str(where.context), True, [f"{tool} needs no capability"])
    decision = explain(principal, capability, context)
    return _answer(principal, tool, capability, decision.context, decision.allowed, list(decision.reasons))


def explain_access(
    *, membership: Membership, api_key: ApiKey | None, tool: str | None, capability: str | None, context: str | None
) -> dict:
    """decide() for a stored key, or for a member as a key with no scope restriction would be, with the reasons
    a key of theirs cannot act at all (revoked, expired, user deactivated, tenant not active) put first."""
    answer = decide(principal_of(membership, api_key), tool=tool, capability=capability, context=context)
    refusals = []
    failure = refusal_of(membership, api_key)
    if failure is not None:
        refusals.append(failure.label)
    if api_key is not None and api_key.expires_at is not None and api_key.expires_at <= timezone.now():
        refusals.append(ResolutionFailure.EXPIRED.label)
    if refusals:
        answer["allowed"] = False
        answer["reasons"] = [*refusals, *answer["reasons"]]
    return answer


def _answer(principal, tool, capability, context, allowed, reasons) -> dict:
    return {
        "allowed": allowed,
        "tool": tool,
        "capability": capability,
        "context": context,
        "reasons": reasons,
        "tenant": _tenant_ref(principal),
        "user": principal.username,
        "key_prefix": principal.key_prefix,
        "limits": dict(principal.limits),
        "usage": _usage(principal),
    }


def _find_tenant(caller: Caller, ref: str) -> Tenant | None:
    tenants = restrict(Tenant.objects.select_related("plan"), caller, "id")
    match = Q(slug=ref)
    try:
        match |= Q(pk=Tenant._meta.pk.to_python(ref))
    except Exception:  # noqa: BLE001  (not a UUID: a slug only)
        pass
    return tenants.filter(match).first()


def _user_id_match(ref: str) -> Q:
    """`ref` as a user id when it is one: ASCII digits only (`'²'.isdigit()` is true but `int('²')` fails)
    and within a 64-bit key, so no reference can overflow the database's integer."""
    if not (ref.isascii() and ref.isdigit()) or int(ref) > 2**63 - 1:
        return Q()
    return Q(user__pk=int(ref))


def explain_member(caller: Caller, *, tenant: str, user: str) -> dict:
    """What `user` can do in `tenant`, context by context, and what each of their keys can do."""
    if not caller.is_staff and not caller.can_manage_tenant:
        raise ApiError(403, "permission_denied", "Explaining needs platform staff or a key with tenant.manage.")
    found = _find_tenant(caller, tenant)
    user_match = Q(user__username=user) | _user_id_match(user)
    if found:  # a tenant's own users may be named without their `@<tenant slug>` suffix
        user_match |= Q(user__username=f"{user}@{found.slug}")
    membership = (
        Membership.objects.select_related("user", "role").filter(tenant=found).filter(user_match).first()
        if found else None
    )
    if membership is None:
        raise ApiError(404, "not_found", f"No member {user!r} in tenant {tenant!r} that you can see.")
    contexts = [_grant("personal", None, membership.role)]
    for om in OrgMembership.objects.filter(membership=membership).select_related("organization", "role"):
        contexts.append(_grant(f"org:{om.organization.slug}", str(om.organization_id), om.role))
    limits = found.plan.limits()
    limits.update(LimitOverride.objects.filter(tenant=found).values_list("limit", "value"))
    keys = [_key(key, contexts) for key in ApiKey.objects.filter(membership=membership).select_related("default_org")]
    return {
        "tenant": {"id": str(found.id), "slug": found.slug, "status": found.status, "plan": found.plan.slug},
        "user": {"id": membership.user.pk, "username": membership.user.get_username(),
                 "is_active": membership.user.is_active},
        "role": membership.role.slug,
        "contexts": contexts,
        "keys": keys,
        "limits": limits,
    }


def _grant(context: str, org_id: str | None, role) -> dict:
    granted = set(role.capabilities)
    return {"context": context, "org_id": org_id, "role": role.slug, "capabilities": sorted(granted),
            "denied": sorted(ALL_CAPABILITIES - granted)}


def _key(key: ApiKey, contexts: list[dict]) -> dict:
    why = None
    if key.revoked_at is not None:
        why = "revoked"
    elif key.expires_at is not None and key.expires_at <= timezone.now():
        why = "expired"
    scope = None if key.scopes is None else set(key.scopes)
    default = f"org:{key.default_org.slug}" if key.default_org and any(
        c["org_id"] == str(key.default_org_id) for c in contexts) else "personal"
    return {
        "prefix": key.prefix,
        "name": key.name,
        "usable": why is None,
        "not_usable_because": why,
        "scopes": sorted(scope) if scope is not None else None,
        "default_context": default,
        "capabilities": {
            c["context"]: [] if why else sorted(set(c["capabilities"]) & scope if scope is not None else c["capabilities"])
            for c in contexts
        },
    }
