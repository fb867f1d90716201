"""The session cookie on the wire: the HTTP route that sets and clears it, and the lines of
script a page runs to call that route.

A Streamlit script run answers over a websocket, which cannot set a cookie, and a cookie
set by script could not be HttpOnly. So the server gets one route of its own
(dashboard/server.py mounts it): the page POSTs the login's one-time claim code, and the
answer sets ``crm_session`` as HttpOnly (no script can read it), SameSite=Strict (no other
site's page sends it), Path=/, Secure when the page came over HTTPS, expiring with the
session's absolute limit. DELETE clears it (after a log-out, or when it names a session that
is over). Both refuse a request from another origin.
"""

from html import escape

from dashboard.access import audit
from dashboard.access.browser_sessions import COOKIE_NAME, BrowserSessions

ROUTE = "/api/session"
MAX_CODE = 200


def _same_origin(request) -> bool:
    """The request comes from a page of this server (browsers send Origin with fetch POST/DELETE)."""
    origin = request.headers.get("origin")
    if origin is None:
        return False
    host = request.headers.get("x-forwarded-host") or request.headers.get("host")
    return origin.partition("://")[2] == host


def _secure(request) -> bool:
    return (request.headers.get("x-forwarded-proto") or request.url.scheme) == "https"


async def session_route(request):
    """POST a claim code: the cookie is set. DELETE: the cookie is cleared."""
    from starlette.responses import Response

    if not _same_origin(request):
        return Response("cross-origin request refused", status_code=403)
    if request.method == "DELETE":
        response = Response(status_code=204)
        response.delete_cookie(COOKIE_NAME, path="/", secure=_secure(request), httponly=True, samesite="strict")
        return response
    code = (await request.body())[:MAX_CODE].decode("ascii", errors="replace").strip()
    now = audit.vietnam_now()
    store = BrowserSessions()
    session = store.claim(code, now)
    if session is None:
        return Response("unknown or expired claim", status_code=403)
    response = Response(status_code=204)
    response.set_cookie(
        COOKIE_NAME,
        store.cookie_value(session.session_id),
        max_age=max(0, int((session.ends_at - now).total_seconds())),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


def routes() -> list:
    from starlette.routing import Route

    return [Route(ROUTE, session_route, methods=["POST", "DELETE"])]


def claim_script(code: str) -> str:
    """The page's part of the claim: POST the code to the route, once."""
    return (
        f'<script>fetch("{ROUTE}", {{method: "POST", body: "{escape(code)}", '
        'credentials: "same-origin", headers: {"Content-Type": "text/plain"}});</script>'
    )


def clear_script() -> str:
    return f'<script>fetch("{ROUTE}", {{method: "DELETE", credentials: "same-origin"}});</script>'
