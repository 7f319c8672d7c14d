"""The API reference at /api/docs/ (Swagger UI, served by us from drf-spectacular-sidecar), in
Chromium under the site's strict CSP: it renders every part of the description, loads nothing
from another origin (the Tab records any such request) and violates no CSP directive (each
violation is recorded by a listener installed before the page's own scripts, and logged as a
console error, which the Tab records too)."""

import re

from .pages import SCREENSHOTS

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_api_docs_render_under_the_strict_csp(browser):
    browser.context.add_init_script(CSP_LISTENER)
    response = browser.goto("/api/docs/")
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert re.search(r"script-src|default-src 'self'", policy)

    page = browser.page
    page.locator(".swagger-ui .info .title").wait_for()
    assert "identity" in page.locator(".swagger-ui .info .title").inner_text()
    # The generated part (DRF views) and the hand-written part (OAuth, discovery) are both shown.
    for path in ("/api/me", "/api/admin/users/", "/oauth/token/", "/.well-known/openid-configuration"):
        assert page.locator(f".opblock-summary-path[data-path='{path}']").count() >= 1, path

    # Open one operation: its parameters, security and example answers render (more of the
    # stylesheet's icons, the `data:` images the docs page alone allows).
    page.locator(".opblock-summary-path[data-path='/api/me']").first.click()
    page.locator(".opblock.is-open .responses-table").first.wait_for()
    assert "insufficient_scope" in page.locator(".opblock.is-open").inner_text()
    page.locator(".opblock-summary-path[data-path='/oauth/token/']").first.click()
    page.locator(".opblock.is-open .opblock-section-request-body").first.wait_for()
    # "Authorize" lists the security schemes: the access token (OAuth 2.0) and client Basic.
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.wait_for()
    assert "clientBasic" in dialog.inner_text() and "oauth2" in dialog.inner_text()
    page.locator(".dialog-ux .close-modal").click()

    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__cspViolations") == []
    # Screenshots only: axe-core finds serious violations in Swagger UI's own markup (nested
    # buttons, unlabelled example selects, its colours), which are not ours to fix here.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{browser.name}-api-docs.png", full_page=True)
    assert page.evaluate("document.documentElement.lang") == "en"


def test_only_the_docs_page_allows_data_images(client, db):
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    login = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "img-src 'self' data:" in docs
    assert "data:" not in login
    # Otherwise the same policy: only img-src differs.
    strip = lambda policy: sorted(d for d in policy.split("; ") if not d.startswith("img-src"))  # noqa: E731
    assert strip(docs) == strip(login)
