from oauthserver.models.clients import OAuthClient
from oauthserver.models.grants import AuthorizationCode, AuthorizationRequest, OAuthGrant, OAuthToken

__all__ = ["AuthorizationCode", "AuthorizationRequest", "OAuthClient", "OAuthGrant", "OAuthToken"]
