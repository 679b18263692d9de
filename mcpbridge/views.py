"""The local adapter's stand-in for S3 presigned URLs: a signed, expiring token per object and method."""

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from mcpbridge.dataplane.local.artifacts import LocalArtifactStore, load_presigned, write_artifact


@csrf_exempt
@require_http_methods(["GET", "PUT"])
def local_artifact(request, token: str):
    claims = load_presigned(token, request.method)
    if claims is None:
        return HttpResponseForbidden("This link is invalid or has expired.", content_type="text/plain")
    if request.method == "GET":
        artifact = LocalArtifactStore().get(claims["k"])
        if artifact is None:
            return HttpResponse("Not found.", status=404, content_type="text/plain")
        return HttpResponse(artifact.body, content_type=artifact.meta.content_type)
    if request.content_type != claims["ct"].split(";")[0].strip():
        return HttpResponseBadRequest(f"Send the header Content-Type: {claims['ct']}.", content_type="text/plain")
    body = request.read(claims["n"] + 1)  # streams past DATA_UPLOAD_MAX_MEMORY_SIZE, bounded by the declared size
    if len(body) > claims["n"]:
        return HttpResponseBadRequest(f"The upload is larger than the {claims['n']} bytes declared.", content_type="text/plain")
    write_artifact(claims["k"], body, claims["ct"])
    return HttpResponse(status=200)
