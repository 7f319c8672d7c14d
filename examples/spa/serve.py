"""The single-page app example: plain JavaScript, authorization code + PKCE (S256), tokens in
memory only, on its own origin — so every call it makes to identity is a CORS request.

    make run          # in one terminal: identity on http://127.0.0.1:8000
    make example-spa  # in another: this app on http://127.0.0.1:8766

This server only hands out the static files (static/) and /config.json (the issuer and the
client); the app itself reads identity's discovery document in the browser. It uses the demo
SPA client that `make run` seeds (demo-spa, allowed origin http://127.0.0.1:8766).
"""

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

STATIC = Path(__file__).resolve().parent / "static"
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/callback": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def make_handler(config):
    issuer_origin = "{0.scheme}://{0.netloc}".format(urlsplit(config["issuer"]))
    headers = {
        # Scripts and styles from here only; fetch to here and to identity only.
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {issuer_origin}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        # The callback URL carries the code until the app removes it: send it to nobody.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    body_of_config = json.dumps(config).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/config.json":
                return self.answer(200, body_of_config, "application/json")
            if path in FILES:
                name, content_type = FILES[path]
                return self.answer(200, (STATIC / name).read_bytes(), content_type)
            return self.answer(404, b"Not found", "text/plain; charset=utf-8")

        def answer(self, status, body, content_type):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", default=os.environ.get("SPA_ISSUER", "http://127.0.0.1:8000"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SPA_PORT", "8766")))
    parser.add_argument("--client-id", default=os.environ.get("SPA_CLIENT_ID", "demo-spa"))
    args = parser.parse_args(argv)
    origin = f"http://127.0.0.1:{args.port}"
    issuer = args.issuer.rstrip("/")
    config = {
        "issuer": issuer,
        "client_id": args.client_id,
        "redirect_uri": f"{origin}/callback",
        "post_logout_redirect_uri": f"{origin}/",
        "scope": "openid profile email",
        "api": f"{issuer}/api/me",
    }
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(config))
    print(f"Single-page app for {issuer}: open {origin}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
