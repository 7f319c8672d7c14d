"""A browser tab that checks every page it is shown, as a product team's QA would."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from conftest import PASSWORD

AXE_PATH = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
# axe-core impacts that fail a page (minor and moderate ones are reported, not failed).
BLOCKING_IMPACTS = {"serious", "critical"}
PHONE_WIDTH = 390


class Tab:
    """One browser profile's page, recording what no page of ours may do: load anything from
    another origin, log a console error (CSP violations are logged as errors), throw, or get a
    5xx answer. The test's teardown asserts none happened (`assert_clean`)."""

    def __init__(self, context, origin, *, name):
        self.context = context
        self.origin = origin.rstrip("/")
        self.name = name
        self.page = context.new_page()
        self.problems = []
        self.shots = 0
        self.auditing = False
        # Origins the browser may be sent to: test clients' web servers, the example apps.
        self.other_origins = set()
        context.on("request", self._on_request)
        context.on("response", self._on_response)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    # --- recording -----------------------------------------------------------------------

    def _on_request(self, request):
        origin = _origin(request.url)
        if origin != self.origin and origin not in self.other_origins and not request.url.startswith("data:"):
            self.problems.append(f"request to another origin: {request.method} {request.url}")

    def _on_response(self, response):
        if response.status >= 500 and _origin(response.url) == self.origin:
            self.problems.append(f"{response.status} from {response.url}")

    def _on_console(self, message):
        if self.auditing and "Content Security Policy" in message.text:
            return  # axe-core's own probing of the page (it sets style attributes), not ours
        if message.type == "error" and not _expected_console_error(message.text):
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def assert_clean(self):
        assert not self.problems, "\n".join(self.problems)

    # --- driving -------------------------------------------------------------------------

    def goto(self, path_or_url):
        url = path_or_url if "://" in path_or_url else self.origin + path_or_url
        return self.page.goto(url)

    def login(self, username, password=PASSWORD, *, check=None):
        """Type the credentials into the login page shown now and submit it."""
        if check:
            self.check(check)
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.click("Log in")

    def click(self, name, role="button", *, exact=True, within="main"):
        """Click a button (or link) of the page's `within` part (main, header) that loads
        another page, and wait for that page."""
        with self.page.expect_navigation():
            self.page.locator(within).get_by_role(role, name=name, exact=exact).click()
        self.page.wait_for_load_state()

    def heading(self):
        return self.page.locator("h1").first.inner_text()

    def query(self):
        """The query parameters of the current URL, one value each."""
        return {k: v[0] for k, v in parse_qs(urlsplit(self.page.url).query, keep_blank_values=True).items()}

    # --- checking ------------------------------------------------------------------------

    def check(self, label):
        """Check the page shown now: a full-page screenshot (desktop and phone width), no
        serious accessibility violation, no horizontal scrolling on a phone."""
        self.page.wait_for_load_state()
        self.shots += 1
        stem = f"{self.name}-{self.shots:02d}-{label}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{stem}.png", full_page=True)
        self.auditing = True
        try:
            violations = accessibility_violations(self.page)
            self.page.evaluate("0")  # console messages logged during the audit arrive before this
        finally:
            self.auditing = False
        assert not violations, f"{label} ({self.page.url}): accessibility violations:\n" + "\n".join(violations)
        viewport = self.page.viewport_size
        self.page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        try:
            overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            self.page.screenshot(path=SCREENSHOTS / f"{stem}-phone.png", full_page=True)
        finally:
            self.page.set_viewport_size(viewport)
        assert overflow <= 0, f"{label}: the page is {overflow}px wider than a {PHONE_WIDTH}px phone screen"


def accessibility_violations(page):
    """axe-core's serious and critical violations on the page, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the DevTools protocol: our CSP (no inline scripts) does not apply.
        page.evaluate(AXE_PATH.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING_IMPACTS:
            targets = [json.dumps(node["target"]) for node in violation["nodes"][:5]]
            lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} at {', '.join(targets)}")
    return lines


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _expected_console_error(text):
    # Chromium logs every 4xx answer of a navigation as a console error: our error pages
    # (400, 403, 404, 429) are meant to be shown.
    return text.startswith("Failed to load resource: the server responded with a status of 4")
