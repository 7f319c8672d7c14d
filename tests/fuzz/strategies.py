"""Hypothesis strategies for hostile HTTP input: junk text and bytes, odd JSON, headers."""

import base64
import json

from hypothesis import strategies as st

# Text from every Unicode category, lone surrogates and NUL included.
any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=40)
ascii_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=40)
huge_numbers = st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, 0, -1])
tricky_words = st.sampled_from(
    ["", "\x00", "null", "true", "[]", "{}", "%00", "%ff", "../..", "' OR 1=1 --", "a" * 5000, "\ud800", "é"]
)
words = st.one_of(any_text, ascii_text, tricky_words, huge_numbers.map(str))

json_scalars = st.one_of(st.none(), st.booleans(), huge_numbers, st.floats(allow_nan=False), words)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(words, st.sampled_from(["username", "email"])), children, max_size=4),
    ),
    max_leaves=12,
)


def _encode_json(value):
    # ensure_ascii escapes lone surrogates (as \ud800 and the like): valid JSON text, invalid Unicode.
    return json.dumps(value).encode()


def _deep(depth):
    return ("[" * depth + "]" * depth).encode()


json_bodies = st.one_of(
    json_values.map(_encode_json),
    st.integers(min_value=100, max_value=3000).map(_deep),
    st.sampled_from([b"", b"{", b'{"a":', b"\x00", b'{"a": 1e99999}', b'{"a": NaN}', b"\xff\xfe{}", b'"\\ud800"']),
    st.binary(max_size=200),
)


def _form(pairs):
    from urllib.parse import quote

    return "&".join(f"{quote(k, errors='surrogatepass')}={quote(v, errors='surrogatepass')}" for k, v in pairs).encode()


# Values that look valid, so that some requests get past the first check.
plausible = st.sampled_from(
    [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "password",
        "code",
        "S256",
        "plain",
        "openid profile email",
        "profile",
        "https://app.example.com/callback",
        "access_token",
        "none",
        "login",
        "user0",
        "correct horse battery staple",
        "user0@example.com",
    ]
)


def form_bodies(field_names):
    names = st.one_of(st.sampled_from(field_names), words)
    return st.one_of(
        st.lists(st.tuples(names, st.one_of(plausible, words)), max_size=8).map(_form),
        st.binary(max_size=300),
        st.sampled_from([b"a=%ff%fe", b"&&&==", b"a" * 20000, b"%", b"x=" + b"%00" * 50]),
    )


content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=bogus",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "application/json; charset=utf-32",
        "application/json; charset=nonsense",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
        "\x00/\x00",
        'application/x-www-form-urlencoded; charset="',
    ]
)


def _basic(raw):
    return "Basic " + base64.b64encode(raw).decode()


authorizations = st.one_of(
    st.none(),
    st.binary(max_size=40).map(_basic),
    st.tuples(ascii_text, ascii_text).map(lambda p: _basic(f"{p[0]}:{p[1]}".encode())),
    ascii_text.map(lambda t: "Bearer " + t),
    st.sampled_from(
        [
            "Basic",
            "Bearer",
            "Bearer ",
            "Basic ===",
            "Basic \u00f1",
            "Bearer a.b.c",
            "Bearer eyJhbGciOiJub25lIn0.e30.",
            "Digest x",
            "Bearer " + "A" * 10000,
        ]
    ),
)

methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])

query_params = st.lists(st.tuples(words, words), max_size=6).map(lambda pairs: _form(pairs).decode("ascii"))
