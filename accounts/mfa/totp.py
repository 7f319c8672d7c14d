"""TOTP enrolment data (pure): the otpauth:// URI an authenticator app scans, its QR code as
inline SVG (no image service, no Pillow), and the secret in base32 for manual entry."""

from base64 import b32encode
from urllib.parse import quote, urlencode
from xml.etree import ElementTree

import qrcode
import qrcode.image.svg


def secret_base32(device):
    """The device's secret as authenticator apps take it: base32, without padding."""
    return b32encode(device.bin_key).decode().rstrip("=")


def grouped(secret):
    """The secret in groups of four, easier to type."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def otpauth_uri(*, secret, issuer, account, digits=6, period=30):
    """The Key URI Format of Google Authenticator (also read by every other app)."""
    issuer = issuer.replace(":", "")
    label = quote(f"{issuer}:{account}" if issuer else account)
    params = {"secret": secret, "algorithm": "SHA1", "digits": digits, "period": period}
    if issuer:
        params["issuer"] = issuer
    return f"otpauth://totp/{label}?{urlencode(params, quote_via=quote)}"


def qr_svg(data, *, title="QR code"):
    """`data` as a QR code: an <svg> element (a string) to put inline in a page."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    root = image.get_image()
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("class", "qr")
    return ElementTree.tostring(root, encoding="unicode")
