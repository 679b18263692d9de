"""Results from the application plane, as an EventBridge API destination delivers them."""

import hmac

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.api.authentication import bearer_token
from tenants.api.serializers import ErrorSerializer
from tenants.services import Actor, application_plane_result_apply
from tenants.services.provisioning import APPLICATION_PLANE_RESULTS


class ApplicationPlaneAuthentication(BaseAuthentication):
    """`Authorization: Bearer <APP_PLANE_WEBHOOK_SECRET>`, the API-key auth of an EventBridge connection."""

    def authenticate(self, request):
        token = bearer_token(request)
        secret = settings.APP_PLANE_WEBHOOK_SECRET
        if token is None:
            return None
        if not secret or not hmac.compare_digest(token.encode(), secret.encode()):
            raise exceptions.AuthenticationFailed("The application-plane credential is not valid.")
        return None, "application-plane"

    def authenticate_header(self, request):
        return 'Bearer realm="application-plane"'


class IsApplicationPlane(AllowAny):
    def has_permission(self, request, view) -> bool:
        if request.auth != "application-plane":
            raise exceptions.NotAuthenticated("Send the application-plane credential as a bearer token.")
        return True


class ApplicationPlaneEventSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=128, help_text="The EventBridge event id; a redelivered id is a no-op.")
    detail_type = serializers.ChoiceField(choices=list(APPLICATION_PLANE_RESULTS))
    source = serializers.CharField(max_length=256, required=False, allow_blank=True)
    detail = serializers.DictField(help_text="Must carry tenantId (id or slug); tenantOutput/jobOutput are stored.")

    def to_internal_value(self, data):
        # EventBridge spells it "detail-type"; an input transformer may send detailType.
        if isinstance(data, dict) and "detail_type" not in data:
            data = {**data, "detail_type": data.get("detail-type", data.get("detailType"))}
        return super().to_internal_value(data)


class ApplicationPlaneResultSerializer(serializers.Serializer):
    tenant = serializers.UUIDField()
    status = serializers.CharField()
    state = serializers.CharField()
    duplicate = serializers.BooleanField()


class ApplicationPlaneEventView(APIView):
    authentication_classes = [ApplicationPlaneAuthentication]
    permission_classes = [IsApplicationPlane]
    throttle_classes = []

    @extend_schema(
        tags=["application plane"],
        request=ApplicationPlaneEventSerializer,
        responses={200: ApplicationPlaneResultSerializer, 400: ErrorSerializer, 401: ErrorSerializer,
                   404: ErrorSerializer, 409: ErrorSerializer},
        examples=[OpenApiExample("provisionSuccess", request_only=True, value={
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "provisionSuccess",
            "source": "applicationPlaneEventSource", "detail": {"tenantId": "acme", "tenantOutput": {"url": "..."}},
        })],
    )
    def post(self, request):
        """Apply provisionSuccess/Failure, deprovisionSuccess/Failure, activate/deactivateSuccess/Failure."""
        serializer = ApplicationPlaneEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = application_plane_result_apply(
            event_id=data["id"], detail_type=data["detail_type"], detail=data["detail"],
            actor=Actor.system("application-plane"),
        )
        return Response(result)
