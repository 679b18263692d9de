"""The only widenings of the site's Content-Security-Policy (settings/security.py): the API docs pages.

Swagger UI and Redoc run from this origin's own files (scripts stay 'self' only), but both style the page
with inline <style> (Redoc's styled-components writes them at run time), so their pages allow inline styles.
Redoc also runs its search index in a worker it builds from a blob: URL.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update

swagger_page_csp = csp_update({"style-src": [UNSAFE_INLINE]})
redoc_page_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})
