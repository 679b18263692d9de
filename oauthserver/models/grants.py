import uuid

from django.db import models


class OAuthGrant(models.Model):
    """A person's consent for one client in one tenant and context.

    Its policy anchor is an API key of the membership (scoped to the granted capabilities, default org = the
    context) that nobody holds: tokens resolve through that key, so a grant is governed, cached and invalidated
    exactly like a key. Revoking the grant revokes the key.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("oauthserver.OAuthClient", on_delete=models.CASCADE, related_name="grants")
    membership = models.ForeignKey("tenants.Membership", on_delete=models.CASCADE, related_name="oauth_grants")
    organization = models.ForeignKey(
        "tenants.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="oauth_grants"
    )
    api_key = models.OneToOneField("tenants.ApiKey", on_delete=models.CASCADE, related_name="oauth_grant")
    scopes = models.JSONField(help_text="The granted capabilities: what the client asked for ∩ what the role grants.")
    resource = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "OAuth grant"

    def __str__(self):
        return f"{self.client} for {self.membership}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AuthorizationRequest(models.Model):
    """A validated /authorize request waiting for the person to sign in and answer the consent page."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("oauthserver.OAuthClient", on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=2000)
    redirect_uri_explicit = models.BooleanField(default=True)
    code_challenge = models.CharField(max_length=128)
    state = models.CharField(max_length=2000, blank=True)
    scopes = models.JSONField(null=True, help_text="Requested capabilities; null when the client asked for none.")
    resource = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)


class AuthorizationCode(models.Model):
    digest = models.CharField(max_length=64, primary_key=True)
    grant = models.ForeignKey(OAuthGrant, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=2000)
    redirect_uri_explicit = models.BooleanField(default=True)
    code_challenge = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class OAuthToken(models.Model):
    """An access or refresh token, stored only as its keyed digest (like API keys) with a visible prefix."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access token"
        REFRESH = "refresh", "Refresh token"

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    grant = models.ForeignKey(OAuthGrant, on_delete=models.CASCADE, related_name="tokens")
    scopes = models.JSONField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # A refresh token is used once: rotation replaces it, and presenting it again revokes the whole grant.
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["grant", "kind"])]
