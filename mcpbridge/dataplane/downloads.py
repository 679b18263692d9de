"""How a stored artifact leaves through a download link: always as a file to save, never as a page.

Tenants are mutually hostile and tenant users are not trusted by staff, so nothing a tenant stores may render
on our origin (or on S3's) as HTML, SVG, PDF with script, or anything else a browser would run. Both adapters
answer download links with these headers; the type the uploader declared is reported by `artifacts_get` but
never sent to a browser.
"""

from urllib.parse import quote

DOWNLOAD_CONTENT_TYPE = "application/octet-stream"
# A sandboxed, resource-less document even if a browser ever ignored the attachment disposition.
DOWNLOAD_CSP = "sandbox; default-src 'none'"
_ASCII_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")


def download_filename(key: str) -> str:
    """The last path segment of the storage key (the namespace and folders are not the file's name)."""
    return key.rsplit("/", 1)[-1] or "artifact"


def attachment_disposition(key: str) -> str:
    """RFC 6266: an ASCII-only fallback for old clients, and the exact name as UTF-8 in filename*."""
    name = download_filename(key)
    fallback = "".join(c if c in _ASCII_SAFE else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_headers(key: str) -> dict[str, str]:
    """Every header a local download answer carries (S3 gets the two it can override per URL)."""
    return {
        "Content-Type": DOWNLOAD_CONTENT_TYPE,
        "Content-Disposition": attachment_disposition(key),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    }
