from controlplane.settings.env import env

# OAuth 2.1 for remote MCP clients (the authorization server lives in this control plane).
OAUTH_ACCESS_TOKEN_SECONDS = env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=900)
OAUTH_REFRESH_TOKEN_SECONDS = env.int("OAUTH_REFRESH_TOKEN_SECONDS", default=30 * 24 * 3600)
OAUTH_AUTHORIZATION_CODE_SECONDS = env.int("OAUTH_AUTHORIZATION_CODE_SECONDS", default=60)
# How long a person has to sign in and answer the consent page.
OAUTH_CONSENT_SECONDS = env.int("OAUTH_CONSENT_SECONDS", default=600)
# Dynamic client registration: registrations per client address and minute; registrations that never got a grant
# are deleted after this many seconds.
OAUTH_REGISTRATIONS_PER_MINUTE = env.int("OAUTH_REGISTRATIONS_PER_MINUTE", default=10)
OAUTH_UNUSED_REGISTRATION_SECONDS = env.int("OAUTH_UNUSED_REGISTRATION_SECONDS", default=24 * 3600)
# Client ID Metadata Documents (the client id is an HTTPS URL of a JSON document): fetch limits and cache time.
OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS = env.float("OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS", default=5.0)
OAUTH_CLIENT_METADATA_MAX_BYTES = env.int("OAUTH_CLIENT_METADATA_MAX_BYTES", default=64 * 1024)
OAUTH_CLIENT_METADATA_CACHE_SECONDS = env.int("OAUTH_CLIENT_METADATA_CACHE_SECONDS", default=3600)
# Development only: accept metadata documents over http and on loopback or private addresses.
OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = env.bool("OAUTH_CLIENT_METADATA_ALLOW_PRIVATE", default=False)
