"""OAuth grants and tokens built in process, through the services the consent page and token endpoint use."""

import itertools

from oauthserver.models import AuthorizationCode, OAuthClient
from oauthserver.selectors import consent_choices
from oauthserver.services.clients import client_register
from oauthserver.services.grants import grant_approve
from oauthserver.services.tokens import IssuedTokens, authorization_request_create, code_exchange
from tenants.policy.keys import key_digest
from tests.factories import ACTOR

RESOURCE = "http://127.0.0.1:8000/mcp"
_seq = itertools.count(1)


def make_oauth_client() -> OAuthClient:
    return client_register(
        client_id=f"test-client-{next(_seq)}", name="Test client", redirect_uris=["http://127.0.0.1:9/cb"], actor=ACTOR
    )


def oauth_tokens(membership, scopes=None, *, org=None, resource: str = RESOURCE, client=None) -> IssuedTokens:
    """Tokens of a grant the member consented to (scopes asked for: `scopes`, None = the role's)."""
    client = client or make_oauth_client()
    pending = authorization_request_create(
        client=client,
        redirect_uri=client.redirect_uris[0],
        redirect_uri_explicit=True,
        code_challenge="c" * 43,
        state=None,
        scopes=list(scopes) if scopes is not None else None,
        resource=resource,
    )
    requested = frozenset(scopes) if scopes is not None else None
    choice = next(
        c
        for c in consent_choices(user=membership.user, requested=requested)
        if c.membership == membership and (c.organization == org)
    )
    raw_code = grant_approve(request=pending, user=membership.user, choice=choice)
    code = AuthorizationCode.objects.get(digest=key_digest(raw_code))
    return code_exchange(code_digest=code.pk)
