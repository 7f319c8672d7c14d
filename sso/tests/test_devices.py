"""sso.devices: a session's device as a person reads it, parsed with ua-parser."""

import pytest

from sso import devices

CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (CHROME_LINUX, "Chrome on Linux"),
        # Playwright's headless Chromium says so itself.
        (CHROME_LINUX.replace("Chrome/", "HeadlessChrome/"), "HeadlessChrome on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1",
            "Mobile Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/125.0.0.0 Mobile Safari/537.36",
            "Chrome Mobile on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Safari/605.1.15",
            "Safari on Mac OS X",
        ),
        ("curl/8.5.0", "curl"),
        ("Laptop browser", devices.UNKNOWN),
        ("", devices.UNKNOWN),
        ("\x00" * 10, devices.UNKNOWN),
        ("x" * 400, devices.UNKNOWN),
    ],
)
def test_describe(user_agent, device):
    assert devices.describe(user_agent) == device


def test_parsing_is_cached_and_bounded():
    resolver = devices._parser().resolver
    assert resolver.cache.maxsize == devices.CACHE_SIZE
    devices.describe(CHROME_LINUX)
    assert resolver.cache[CHROME_LINUX] is not None
