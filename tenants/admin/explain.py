"""Explain access: may this key (or member) call this tool, or use this capability, in this context, and why.

The answer is the decision API's (tenants.decisions.logic, on the policy resolver's principal and
tenants.policy.explain), so the page, the MCP server and GET/POST /api/decide/ can never disagree. The page
adds links to the objects an operator would change."""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from tenants.capabilities import Capability
from tenants.decisions.logic import explain_access
from tenants.decisions.tools import tool_capabilities
from tenants.models import ApiKey, OrgMembership
from tenants.selectors import membership_for, tenant_get


def _tool_choices():
    return [("", "---------"), *((name, name) for name in sorted(tool_capabilities()))]


class ExplainAccessForm(forms.Form):
    key = forms.CharField(
        label="API key prefix", required=False, max_length=64,
        help_text="As shown in the list of API keys (cpk_…). Or leave empty and name a member below.",
    )
    tenant = forms.CharField(label="Tenant", required=False, max_length=100, help_text="Slug or id.")
    user = forms.CharField(
        label="Member", required=False, max_length=150,
        help_text="Username; explained as a key of theirs with no scope restriction would be.",
    )
    context = forms.CharField(
        label="Context", required=False, max_length=100,
        help_text="personal, or an organization's slug. Empty: the key's default context.",
    )
    tool = forms.ChoiceField(label="Tool", required=False, choices=_tool_choices)
    capability = forms.ChoiceField(
        label="or capability", required=False, choices=[("", "---------"), *Capability.choices]
    )

    def clean(self):
        cleaned = super().clean()
        key, tenant, user = (cleaned.get(name, "").strip() for name in ("key", "tenant", "user"))
        if bool(cleaned.get("tool")) == bool(cleaned.get("capability")):
            raise forms.ValidationError("Pick a tool or a capability (one of them).")
        if key and (tenant or user):
            raise forms.ValidationError("Give a key prefix, or a tenant and a member, not both.")
        cleaned["api_key"] = None
        if key:
            found = ApiKey.objects.select_related(
                "membership__tenant__plan", "membership__user", "membership__role", "default_org"
            ).filter(prefix=key).first()
            if found is None:
                self.add_error("key", f"No API key with prefix {key!r}: copy it from the list of API keys.")
                return cleaned
            cleaned["api_key"], cleaned["membership"] = found, found.membership
            return cleaned
        if not (tenant and user):
            raise forms.ValidationError("Give a key prefix, or a tenant and a member.")
        found_tenant = tenant_get(slug_or_id=tenant)
        if found_tenant is None:
            self.add_error("tenant", f"No tenant {tenant!r}.")
            return cleaned
        membership = membership_for(tenant=found_tenant, username=user)
        if membership is None:
            self.add_error("user", f"{user!r} is not a member of {found_tenant.slug}.")
            return cleaned
        cleaned["membership"] = membership
        return cleaned


def _change(model: str, pk) -> str:
    return reverse(f"admin:tenants_{model}_change", args=[pk])


def _links(membership, api_key) -> list[tuple[str, str]]:
    """What an operator would change to turn the answer around, with where to change it."""
    tenant = membership.tenant
    links = [
        (f"tenant {tenant.slug} (status {tenant.status}; suspend or resume)", _change("tenant", tenant.pk)),
        (f"membership of {membership.user.get_username()} (role {membership.role.slug})",
         _change("membership", membership.pk)),
        (f"role {membership.role.slug} (its capabilities)", _change("role", membership.role.pk)),
        (f"plan {tenant.plan.slug} (default limits)", _change("plan", tenant.plan.pk)),
        (f"limit overrides of {tenant.slug}",
         reverse("admin:tenants_limitoverride_changelist") + "?" + urlencode({"tenant__id__exact": tenant.pk})),
    ]
    for grant in OrgMembership.objects.filter(membership=membership).select_related("organization", "role"):
        links.append((f"organization {grant.organization.slug} role {grant.role.slug}",
                      _change("role", grant.role.pk)))
    if api_key is not None:
        links.insert(1, (f"API key {api_key.prefix}… (scope, expiry, revoke)", _change("apikey", api_key.pk)))
    return links


def explain_access_view(request, model_admin):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    asked = "tool" in request.GET or "capability" in request.GET
    # A link that only names the key or member (from its page) opens the form filled in, not with errors.
    form = ExplainAccessForm(request.GET) if asked else ExplainAccessForm(initial=request.GET.dict())
    answer = links = None
    if form.is_valid():
        data = form.cleaned_data
        answer = explain_access(
            membership=data["membership"], api_key=data["api_key"], tool=data["tool"] or None,
            capability=data["capability"] or None, context=data["context"].strip() or None,
        )
        links = _links(data["membership"], data["api_key"])
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Explain access",
        "form": form,
        "answer": answer,
        "links": links,
    }
    return TemplateResponse(request, "admin/tenants/explain/access.html", context)
