"""Who am I, where am I acting, and switching between the personal context and an org."""

from pydantic import Field

from mcpbridge.server.registry import Tool, ToolCall, ToolInput
from tenants.policy import Principal


class NoArguments(ToolInput):
    pass


class ContextSwitchInput(ToolInput):
    org: str | None = Field(
        default=None,
        max_length=100,
        description='Slug or id of an organization you belong to; omit it or pass "personal" for your own space.',
    )


def describe(principal: Principal) -> dict:
    return {
        "tenant": {"id": principal.tenant_id, "slug": principal.tenant_slug, "name": principal.tenant_name},
        "user": {"id": principal.user_id, "username": principal.username},
        "key_prefix": principal.key_prefix,
        "context": str(principal.context),
        "role": principal.context_role,
        "capabilities": sorted(principal.capabilities),
        "organizations": [{"slug": g.org_slug, "name": g.org_name, "role": g.role} for g in principal.org_grants],
        "plan": principal.plan_slug,
    }


def whoami(call: ToolCall) -> dict:
    return describe(call.principal)


def context_switch(call: ToolCall) -> dict:
    org = call.args.org
    target = call.principal.in_context(None if org in (None, "", "personal") else org)
    call.contexts.set(call.principal, target.context.org_id)
    return describe(target)


TOOLS = (
    Tool(
        name="whoami",
        description="Show your tenant, user, current context (personal or an org), role and capabilities.",
        input_model=NoArguments,
        handler=whoami,
        read_only=True,
    ),
    Tool(
        name="context_switch",
        description=(
            "Act in your personal space or in an organization you belong to. The org's role then decides what "
            "you may do, and every stored item lives in that org's shared space."
        ),
        input_model=ContextSwitchInput,
        handler=context_switch,
    ),
)
