"""The local adapter's stand-in for S3 presigned URLs: a signed, expiring token per object and method."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from mcpbridge.dataplane.downloads import download_headers
from mcpbridge.dataplane.local.artifacts import LocalArtifactStore, load_presigned, write_artifact


@csrf_exempt
@require_http_methods(["GET", "PUT"])
def local_artifact(request, token: str):
    claims = load_presigned(token, request.method)
    if claims is None:
        return HttpResponseForbidden("This link is invalid or has expired.", content_type="text/plain")
    if request.method == "GET":
        return _download(request, claims["k"])
    if request.content_type != claims["ct"].split(";")[0].strip():
        return HttpResponseBadRequest(f"Send the header Content-Type: {claims['ct']}.", content_type="text/plain")
    body = request.read(claims["n"] + 1)  # streams past DATA_UPLOAD_MAX_MEMORY_SIZE, bounded by the declared size
    if len(body) > claims["n"]:
        return HttpResponseBadRequest(f"The upload is larger than the {claims['n']} bytes declared.", content_type="text/plain")
    write_artifact(claims["k"], body, claims["ct"])
    return HttpResponse(status=200)


def _on_download_host(request, download_base: str) -> bool:
    wanted = urlsplit(download_base)
    got = urlsplit(f"//{request.get_host()}")
    default_port = 443 if wanted.scheme == "https" else 80
    try:
        return got.hostname == wanted.hostname and (got.port or default_port) == (wanted.port or default_port)
    except ValueError:  # a port out of range
        return False


def _download(request, key: str) -> HttpResponse:
    download_base = settings.DATAPLANE_DOWNLOAD_BASE_URL
    if download_base and not _on_download_host(request, download_base):
        # With a separate download host configured, tenant content is never served on the admin's host.
        return HttpResponse(f"Downloads are served from {download_base}.", status=404, content_type="text/plain")
    artifact = LocalArtifactStore().get(key)
    if artifact is None:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    response = HttpResponse(artifact.body)
    for name, value in download_headers(key).items():
        response[name] = value
    return response
