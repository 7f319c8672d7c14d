"""core.querystring: query-string editing that keeps the rest of the URL."""

from core import querystring

URL = "https://app.example/cb?b=1&a=&b=2#frag?x=1"


def test_parameters_keeps_order_repeats_and_blanks():
    assert querystring.parameters(URL) == [("b", "1"), ("a", ""), ("b", "2")]
    assert querystring.parameters("https://app.example/cb") == []


def test_add_parameters_appends_and_keeps_repeated_names_and_the_fragment():
    assert querystring.add_parameters(URL, b="3", c="x y") == "https://app.example/cb?b=1&a=&b=2&b=3&c=x+y#frag?x=1"


def test_add_parameters_to_a_url_without_a_query():
    assert querystring.add_parameters("https://app.example/cb", state="s&t") == "https://app.example/cb?state=s%26t"
    assert querystring.add_parameters("/path#top", code="c") == "/path?code=c#top"


def test_add_parameters_skips_none():
    assert querystring.add_parameters("https://app.example/cb?a=1", state=None) == "https://app.example/cb?a=1"


def test_set_parameter_replaces_every_earlier_value_at_the_end():
    assert querystring.set_parameter(URL, "b", "9") == "https://app.example/cb?a=&b=9#frag?x=1"
    assert querystring.set_parameter("https://app.example/cb", "iss", "https://id.example") == (
        "https://app.example/cb?iss=https%3A%2F%2Fid.example"
    )


def test_remove_parameters_drops_every_occurrence():
    assert querystring.remove_parameters(URL, "b") == "https://app.example/cb?a=#frag?x=1"
    assert querystring.remove_parameters(URL, "a", "b") == "https://app.example/cb#frag?x=1"
    assert querystring.remove_parameters(URL, "missing") == "https://app.example/cb?b=1&a=&b=2#frag?x=1"


def test_rewrite_parameters_edits_in_place_and_drops_on_none():
    def rewrite(name, value):
        if name == "a":
            return None
        return value + "0" if name == "b" else value

    assert querystring.rewrite_parameters(URL + "", rewrite) == "https://app.example/cb?b=10&b=20#frag?x=1"
    assert querystring.rewrite_parameters("/p?c=%20", lambda name, value: value) == "/p?c=+"


def test_the_query_is_re_encoded_but_never_reordered():
    url = "https://app.example/cb?z=%7E&y=a%20b&x=%C3%A9"
    assert querystring.with_parameters(url, querystring.parameters(url)) == "https://app.example/cb?z=~&y=a+b&x=%C3%A9"
