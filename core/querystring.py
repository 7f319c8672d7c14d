"""Editing the query string of a URL, leaving its scheme, host, path and fragment alone.

Every function parses the query with blank values kept and repeated names in their order, and
writes it back form-encoded (`urlencode`): a URL that goes in with a query comes out with the
same parameters, perhaps spelt differently (`%20` as `+`), never reordered.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def parameters(url):
    """The (name, value) pairs of the URL's query, in order, repeated names and blanks kept."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def with_parameters(url, pairs):
    """`url` with its query replaced by `pairs` (an iterable of (name, value))."""
    return urlunsplit(urlsplit(url)._replace(query=urlencode(list(pairs))))


def add_parameters(url, **params):
    """`url` with `params` appended to its query (existing ones kept, even of the same name);
    a parameter whose value is None is not added."""
    added = [(name, value) for name, value in params.items() if value is not None]
    return with_parameters(url, parameters(url) + added)


def set_parameter(url, name, value):
    """`url` with every `name` parameter removed and `name=value` appended."""
    return with_parameters(url, [*((k, v) for k, v in parameters(url) if k != name), (name, value)])


def remove_parameters(url, *names):
    """`url` without any parameter called one of `names`."""
    return with_parameters(url, ((k, v) for k, v in parameters(url) if k not in names))


def rewrite_parameters(url, rewrite):
    """`url` with each parameter's value replaced by `rewrite(name, value)`, in place; a
    parameter for which it returns None is dropped."""
    rewritten = ((name, rewrite(name, value)) for name, value in parameters(url))
    return with_parameters(url, ((name, value) for name, value in rewritten if value is not None))
