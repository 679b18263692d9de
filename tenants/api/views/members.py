"""Organizations, memberships and org memberships of a tenant."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response

from tenants.api import serializers as s
from tenants.api.filters import MembershipFilter, OrganizationFilter, OrgMembershipFilter
from tenants.api.idempotency import idempotent_create
from tenants.api.viewsets import ScopedViewSet
from tenants.models import Membership, Organization, OrgMembership
from tenants.selectors import user_by_username
from tenants.services import (
    membership_add,
    membership_change_role,
    membership_create_user,
    membership_remove,
    org_membership_add,
    org_membership_change_role,
    org_membership_remove,
    organization_create,
    organization_delete,
    organization_update,
)
from tenants.services.memberships import STAFF_ONLY_ATTACH

_METHODS = ["get", "post", "patch", "delete", "head", "options"]


@extend_schema(tags=["organizations"])
class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Organization.objects.all()
    serializer_class = s.OrganizationSerializer
    filterset_class = OrganizationFilter
    ordering_fields = ["slug", "name", "created_at"]
    ordering = ["slug"]
    http_method_names = _METHODS

    @extend_schema(request=s.OrganizationSerializer, responses={201: s.OrganizationSerializer})
    def create(self, request):
        def handler():
            data = dict(self.validated(s.OrganizationSerializer))
            tenant = self.target_tenant(data.pop("tenant", None))
            org = organization_create(tenant=tenant, actor=self.actor(), **data)
            return self.respond(org, status=status.HTTP_201_CREATED)

        return idempotent_create(request, handler)

    @extend_schema(request=s.OrganizationUpdateSerializer, responses=s.OrganizationSerializer)
    def partial_update(self, request, pk=None):
        org = self.get_object()
        data = self.validated(s.OrganizationUpdateSerializer)
        return self.respond(organization_update(organization=org, actor=self.actor(), **data))

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        organization_delete(organization=self.get_object(), actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["memberships"])
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A user's place in a tenant. A create makes a new user of the tenant (`<username>@<tenant slug>`);
    linking an existing user (`existing_user`) is for platform staff only."""

    queryset = Membership.objects.select_related("user", "role")
    serializer_class = s.MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["created_at", "user__username"]
    ordering = ["created_at"]
    http_method_names = _METHODS

    @extend_schema(request=s.MembershipCreateSerializer, responses={201: s.MembershipSerializer})
    def create(self, request):
        def handler():
            data = self.validated(s.MembershipCreateSerializer)
            tenant = self.target_tenant(data.get("tenant"))
            if "existing_user" in data:
                membership = self._link_existing_user(tenant, data["existing_user"], data["role"])
            else:
                membership = membership_create_user(
                    tenant=tenant, username=data["username"], email=data.get("email", ""), role=data["role"],
                    actor=self.actor(),
                )
            return self.respond(membership, status=status.HTTP_201_CREATED)

        return idempotent_create(request, handler)

    def _link_existing_user(self, tenant, username: str, role):
        # Refused before any lookup, so a key learns nothing about which users exist.
        if not self.caller.is_staff:
            raise exceptions.PermissionDenied(STAFF_ONLY_ATTACH)
        user = user_by_username(username=username)
        if user is None:
            raise serializers.ValidationError({"existing_user": [f"No user is named {username!r}."]})
        return membership_add(tenant=tenant, user=user, role=role, actor=self.actor())

    @extend_schema(request=s.RoleChangeSerializer, responses=s.MembershipSerializer)
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        data = self.validated(s.RoleChangeSerializer)
        return self.respond(membership_change_role(membership=membership, role=data["role"], actor=self.actor()))

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        """Remove the member; their org memberships and API keys go with them."""
        membership_remove(membership=self.get_object(), actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["memberships"])
class OrgMembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = OrgMembership.objects.select_related("role")
    serializer_class = s.OrgMembershipSerializer
    tenant_path = "organization__tenant"
    filterset_class = OrgMembershipFilter
    ordering_fields = ["created_at"]
    ordering = ["created_at"]
    http_method_names = _METHODS

    @extend_schema(request=s.OrgMembershipSerializer, responses={201: s.OrgMembershipSerializer})
    def create(self, request):
        def handler():
            om = org_membership_add(actor=self.actor(), **self.validated(s.OrgMembershipSerializer))
            return self.respond(om, status=status.HTTP_201_CREATED)

        return idempotent_create(request, handler)

    @extend_schema(request=s.RoleChangeSerializer, responses=s.OrgMembershipSerializer)
    def partial_update(self, request, pk=None):
        om = self.get_object()
        data = self.validated(s.RoleChangeSerializer)
        return self.respond(org_membership_change_role(org_membership=om, role=data["role"], actor=self.actor()))

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        org_membership_remove(org_membership=self.get_object(), actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)
