"""Sign-in and consent pages (Django templates, admin styling, no JavaScript needed)."""

from urllib.parse import urlparse

from django.contrib import admin
from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from mcp.server.auth.provider import construct_redirect_uri

from oauthserver.selectors import authorization_request_open, consent_choices
from oauthserver.services.grants import grant_approve, grant_deny
from tenants.capabilities import Capability
from tenants.services.errors import ServiceError


class ClientRedirect(HttpResponseRedirect):
    """A redirect back to the client. Its URI was matched exactly against the client's registration, so its
    scheme may be a native app's own (com.example.app:/callback)."""

    def __init__(self, url: str):
        self.allowed_schemes = [urlparse(url).scheme]
        super().__init__(url)
        self["Cache-Control"] = "no-store"


class OAuthLoginView(LoginView):
    template_name = "oauth/login.html"

    def get_context_data(self, **kwargs):
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs), "title": "Sign in"}


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request, request_id):
    pending = authorization_request_open(request_id=request_id)
    if pending is None:
        return render(
            request,
            "oauth/consent_gone.html",
            {**admin.site.each_context(request), "title": "Authorization request not found"},
            status=404,
        )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("oauth:login"))
    requested = frozenset(pending.scopes) if pending.scopes is not None else None
    choices = consent_choices(user=request.user, requested=requested)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("decision") != "allow":
                grant_deny(request=pending, user=request.user)
                return ClientRedirect(
                    construct_redirect_uri(
                        pending.redirect_uri,
                        error="access_denied",
                        error_description="The person declined the request.",
                        state=pending.state or None,
                    )
                )
            choice = next((c for c in choices if c.key == request.POST.get("choice")), None)
            if choice is None:
                raise ServiceError("Choose a tenant and context to grant.", field="choice")
            code = grant_approve(request=pending, user=request.user, choice=choice)
            return ClientRedirect(construct_redirect_uri(pending.redirect_uri, code=code, state=pending.state or None))
        except ServiceError as exc:
            error = exc.message
    labels = dict(Capability.choices)
    shown = sorted(requested) if requested is not None else sorted({c for ch in choices for c in ch.requested})
    rows = [
        {
            "choice": choice,
            "marks": [cap in choice.role_capabilities for cap in shown],
            "granted": sorted(choice.granted),
        }
        for choice in choices
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Connect a client",
        "pending": pending,
        "client": pending.client,
        "redirect_host": urlparse(pending.redirect_uri).netloc or pending.redirect_uri,
        "capabilities": [(cap, labels.get(cap, cap)) for cap in shown],
        "rows": rows,
        "error": error,
    }
    response = render(request, "oauth/consent.html", context, status=400 if error else 200)
    # Browsers apply the form's CSP to where its POST redirects: the answer goes back to the client's registered
    # redirect URI, so that one target (and nothing else) joins the page's form-action.
    response._csp_update = {"form-action": [_redirect_source(pending.redirect_uri)]}
    return response


def _redirect_source(uri: str) -> str:
    """The CSP source expression of a redirect URI: its origin, or a native app's own scheme."""
    parts = urlparse(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"
