"""The JSON parser of every DRF endpoint: DRF's, refusing documents nested too deep.

Python's json module recurses once per nesting level: about 1,000 levels raise RecursionError,
which DRF does not catch (a 500 from a few kilobytes of brackets). No document any endpoint
takes nests beyond a handful of levels, so anything deeper than MAX_DEPTH is a 400 before
json parses it.
"""

import codecs
import re
from itertools import accumulate

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text):
    """How deep the arrays and objects of a JSON text nest (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(_STEP[c] for c in brackets), default=0)


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser, with a 400 (ParseError) for text nested deeper than MAX_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
