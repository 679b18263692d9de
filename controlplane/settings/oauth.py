from controlplane.settings.env import read_bool, read_float, read_int

# OAuth 2.1 for remote MCP clients (the authorization server lives in this control plane).
OAUTH_ACCESS_TOKEN_SECONDS = read_int("OAUTH_ACCESS_TOKEN_SECONDS", 900, minimum=1, example="900")
OAUTH_REFRESH_TOKEN_SECONDS = read_int("OAUTH_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600, minimum=1, example="2592000")
OAUTH_AUTHORIZATION_CODE_SECONDS = read_int("OAUTH_AUTHORIZATION_CODE_SECONDS", 60, minimum=1, example="60")
# How long a person has to sign in and answer the consent page.
OAUTH_CONSENT_SECONDS = read_int("OAUTH_CONSENT_SECONDS", 600, minimum=1, example="600")
# Dynamic client registration: registrations per client address and minute; registrations that never got a grant
# are deleted after this many seconds.
OAUTH_REGISTRATIONS_PER_MINUTE = read_int("OAUTH_REGISTRATIONS_PER_MINUTE", 10, minimum=1, example="10")
OAUTH_UNUSED_REGISTRATION_SECONDS = read_int("OAUTH_UNUSED_REGISTRATION_SECONDS", 24 * 3600, minimum=1, example="86400")
# Client ID Metadata Documents (the client id is an HTTPS URL of a JSON document): fetch limits and cache time.
OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS = read_float(
    "OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS", 5.0, above=True, example="5"
)
OAUTH_CLIENT_METADATA_MAX_BYTES = read_int("OAUTH_CLIENT_METADATA_MAX_BYTES", 64 * 1024, minimum=1, example="65536")
OAUTH_CLIENT_METADATA_CACHE_SECONDS = read_int("OAUTH_CLIENT_METADATA_CACHE_SECONDS", 3600, minimum=1, example="3600")
# Development only: accept metadata documents over http and on loopback or private addresses.
OAUTH_CLIENT_METADATA_ALLOW_PRIVATE = read_bool("OAUTH_CLIENT_METADATA_ALLOW_PRIVATE", False)
