from ninja import Field, Schema


class Error(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. invalid, unknown_key, rate_limited.")
    message: str = Field(description="What went wrong, for a person to act on.")
    details: dict = Field(default_factory=dict, description="More context, e.g. fields -> messages.")


class CheckIn(Schema):
    tool: str | None = Field(None, max_length=64, description="An MCP tool name, e.g. kv_set. Give tool or capability.")
    capability: str | None = Field(None, max_length=64, description="A capability, e.g. kv.write.")
    context: str | None = Field(
        None, max_length=100, description='"personal", an organization slug or id; omitted: the key\'s default context.'
    )


class TenantRef(Schema):
    id: str
    slug: str
    status: str
    plan: str


class LimitLeft(Schema):
    used: int
    max: int
    left: int


class CheckOut(Schema):
    allowed: bool
    tool: str | None
    capability: str | None
    context: str
    reasons: list[str]
    tenant: TenantRef
    user: str
    key_prefix: str
    limits: dict[str, int] = Field(description="Every limit in force for the tenant.")
    usage: dict[str, LimitLeft] = Field(description="Quotas with usage: used, max and what is left.")


class ContextGrant(Schema):
    context: str = Field(description='"personal" or org:<slug>.')
    org_id: str | None
    role: str
    capabilities: list[str]
    denied: list[str]


class KeyGrant(Schema):
    prefix: str
    name: str
    usable: bool
    not_usable_because: str | None
    scopes: list[str] | None
    default_context: str
    capabilities: dict[str, list[str]] = Field(description="Context -> what this key may do there.")


class UserRef(Schema):
    id: int
    username: str
    is_active: bool


class ExplainOut(Schema):
    tenant: TenantRef
    user: UserRef
    role: str
    contexts: list[ContextGrant]
    keys: list[KeyGrant]
    limits: dict[str, int]
