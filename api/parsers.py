"""Request body parsing."""

import codecs

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser on orjson, which refuses two things the standard library accepts and
    nothing downstream can handle: lone surrogates ("\\ud800", which no database can encode)
    and nesting deep enough to exhaust the stack (RecursionError). Both answer 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            raw = stream.read()
            if codecs.lookup(encoding).name != "utf-8":
                raw = raw.decode(encoding)
            return orjson.loads(raw)
        except ValueError as exc:  # orjson.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from exc
