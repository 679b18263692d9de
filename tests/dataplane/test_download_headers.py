"""Download links never render tenant content: attachment, octet-stream, nosniff, a sandboxing CSP (issue 8.1)."""

from urllib.parse import unquote, urlsplit

import pytest
import requests
from django.test import Client

from mcpbridge.dataplane.downloads import attachment_disposition
from mcpbridge.services.artifacts import artifact_get, artifact_put

pytestmark = pytest.mark.django_db

PAGE = "<html><body><script>document.title = 'pwned'</script></body></html>"


def _download_url(principal, settings, name="report.html"):
    artifact_put(principal=principal, name=name, content=PAGE, content_type="text/html")
    settings.ARTIFACT_INLINE_MAX_BYTES = 8  # links are handed out above this size
    got = artifact_get(principal=principal, name=name)
    assert got["content_type"] == "text/html"  # reported to the MCP client as uploaded, never sent to a browser
    return got["download_url"]


def _get_local(url, **extra):
    parts = urlsplit(url)
    return Client().get(parts.path, HTTP_HOST=parts.netloc, secure=parts.scheme == "https", **extra)


def test_local_download_is_an_inert_attachment(make_principal, settings):
    settings.DATAPLANE_BACKEND = "local"
    response = _get_local(_download_url(make_principal(), settings))
    assert response.status_code == 200 and response.content == PAGE.encode()
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment; filename=\"report.html\"; filename*=UTF-8''report.html"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "private, no-store"


def test_aws_presigned_download_answers_as_an_attachment(aws_backend, make_principal, settings):
    response = requests.get(_download_url(make_principal(), settings, name="dir/ré port.html"), timeout=10)
    assert response.status_code == 200 and response.content == PAGE.encode()
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"r__port.html\"; filename*=UTF-8''r%C3%A9%20port.html"
    )
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "key,fallback,exact",
    [
        ("t/1/u/2/plain.txt", "plain.txt", "plain.txt"),
        ('t/1/u/2/a "quoted"; name=x.html', "a__quoted___name_x.html", 'a "quoted"; name=x.html'),
        ("t/1/u/2/dir/über\\évil.pdf", "_ber__vil.pdf", "über\\évil.pdf"),
    ],
)
def test_disposition_is_rfc6266_for_any_name(key, fallback, exact):
    value = attachment_disposition(key)
    head, quoted, star = value.split("; ", 2)
    assert head == "attachment" and quoted == f'filename="{fallback}"'
    assert star.startswith("filename*=UTF-8''") and unquote(star.removeprefix("filename*=UTF-8''")) == exact
    assert value.count('"') == 2 and value.count(";") == 2  # nothing in a name can break out of its parameter


def test_links_point_to_the_separate_download_host(make_principal, settings):
    settings.DATAPLANE_BACKEND = "local"
    settings.DATAPLANE_DOWNLOAD_BASE_URL = "https://downloads.example.test"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "downloads.example.test"]
    url = _download_url(make_principal(), settings)
    assert url.startswith("https://downloads.example.test/dataplane/artifacts/")
    served = _get_local(url)
    assert served.status_code == 200 and served["Content-Disposition"].startswith("attachment;")
    # The same link presented on the admin's host is refused: tenant content never comes from that origin.
    on_admin_host = Client().get(urlsplit(url).path, HTTP_HOST="127.0.0.1:8000")
    assert on_admin_host.status_code == 404
    assert on_admin_host.content == b"Downloads are served from https://downloads.example.test."
    assert on_admin_host["Content-Type"].startswith("text/plain")


def test_without_a_download_host_links_use_the_public_url(make_principal, settings):
    settings.DATAPLANE_BACKEND = "local"
    settings.DATAPLANE_DOWNLOAD_BASE_URL = ""
    settings.DATAPLANE_LOCAL_PUBLIC_URL = "http://127.0.0.1:8000"
    url = _download_url(make_principal(), settings)
    assert url.startswith("http://127.0.0.1:8000/dataplane/artifacts/")
    assert _get_local(url).status_code == 200
