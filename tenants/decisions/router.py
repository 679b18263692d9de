from asgiref.sync import sync_to_async
from ninja import Field, Query, Router, Schema

from tenants.api.caller import Caller
from tenants.decisions import logic
from tenants.decisions.auth import KeyAuth, StaffSessionAuth
from tenants.policy import Principal
from tenants.decisions.schemas import CheckIn, CheckOut, Error, ExplainOut

router = Router(tags=["decisions"])

ERRORS = {400: Error, 401: Error, 403: Error, 429: Error}


@router.post("/check", response={200: CheckOut, **ERRORS}, auth=[KeyAuth()], operation_id="check")
async def check(request, payload: CheckIn):
    """May the bearer key call this tool (or use this capability) in this context? Allow or deny, every
    reason, the tenant's limits and the quota left. Keys that cannot act at all get 401 (unknown, revoked,
    expired) or 403 (tenant suspended or offboarded)."""
    principal = request.auth
    # Quota reads are blocking ORM work: they run in the thread Django keeps for sync code, off the event loop.
    return await sync_to_async(logic.decide)(
        principal, tool=payload.tool, capability=payload.capability, context=payload.context
    )


class ExplainQuery(Schema):
    tenant: str = Field(..., min_length=1, max_length=100, description="Tenant slug or id.")
    user: str = Field(..., min_length=1, max_length=150, description="Username or user id.")


@router.get("/explain", response={200: ExplainOut, 404: Error, **ERRORS}, auth=[KeyAuth(), StaffSessionAuth()],
            operation_id="explain")
async def explain_member(request, query: Query[ExplainQuery]):
    """What a user can do in a tenant, in each context (personal and every organization), and per API key.
    Staff may ask about any tenant; a tenant.manage key only about its own (others are 404)."""
    caller = Caller(user=request.user, principal=request.auth if isinstance(request.auth, Principal) else None)
    return await sync_to_async(logic.explain_member)(
        caller, tenant=query.tenant, user=query.user
    )
