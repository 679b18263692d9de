"""OpenAPI details drf-spectacular cannot infer: the bearer key scheme and the error answers of every operation."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from tenants.api.serializers import ErrorSerializer

_ERRORS = {
    "400": "Invalid input; details.fields names each field and what is wrong with it.",
    "401": "No credentials, or an API key that is unknown, revoked or expired.",
    "403": "Authenticated but not allowed (missing capability, staff-only operation, tenant not active).",
    "404": "No such object, or it belongs to another tenant.",
    "409": "Conflict with the current state (duplicate, invalid status transition, reused Idempotency-Key).",
    "429": "Rate limited; retry after the number of seconds in Retry-After.",
}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (cpk_...) whose role has tenant.manage; staff use the session instead.",
        }


class ServiceKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api.authentication.ServiceKeyAuthentication"
    name = "platformServiceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A platform service key (cps_...) issued by staff; each tenant, plan and limit-override "
            "operation needs its platform capability (platform.tenants.read, platform.tenants.create, "
            "platform.tenants.lifecycle, platform.plans, platform.limits).",
        }


class ControlPlaneAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = _ERRORS[code]
                responses[code] = response
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers["Retry-After"] = {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        return headers


class ApplicationPlaneAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.api.views.application_plane.ApplicationPlaneAuthentication"
    name = "applicationPlane"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The shared secret APP_PLANE_WEBHOOK_SECRET (an EventBridge connection's API key auth).",
        }
