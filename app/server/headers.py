"""Security headers of every response (pure): a CSP for the pages, a looser one for the API docs."""

from __future__ import annotations

# the pages load only their own /static files and call only this server; nothing inline (see app/web/static)
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI (/docs) and ReDoc (/redoc) start from an inline <script>/<style> and use data: images and a blob:
# worker; their assets are still served by this app (fastapi-offline)
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_PREFIXES = ("/docs", "/redoc")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def security_headers(path: str) -> dict[str, str]:
    csp = DOCS_CSP if under(path, DOCS_PREFIXES) else PAGE_CSP
    return {"content-security-policy": csp, **SECURITY_HEADERS}
