"""Serializers that accept exactly the JSON types the schema declares.

DRF coerces: a CharField takes `0` and stores "0", an IntegerField takes "5", a BooleanField takes
"yes" or 1. The schema says `string`, `integer`, `boolean`, so a client (or a fuzzer) sending
another type gets a 400 naming the field, as for any other invalid value. Every serializer of the
project derives from `Serializer` or `ModelSerializer` here, or mixes in `StrictTypesMixin`
(simplejwt's, in accounts/serializers.py); tests/unit/api/test_strict_types.py checks it.
"""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

# The JSON type each field kind takes, and the message (and code) when it gets another.
_STRING = ((str,), "Not a valid string.")
_INTEGER = ((int,), "A valid integer is required.")
_NUMBER = ((int, float), "A valid number is required.")
_BOOLEAN = ((bool,), "Must be a valid boolean.")


def _json_type(field):
    """The JSON types `field` accepts, or None for a field left to DRF (nested, lists, files...)."""
    if isinstance(field, serializers.BooleanField):
        return _BOOLEAN
    if isinstance(field, serializers.IntegerField):
        return _INTEGER
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return _NUMBER
    if isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None:
        return _INTEGER  # the project's primary keys are integers (BigAutoField)
    if isinstance(field, serializers.CharField | serializers.DateTimeField | serializers.DateField):
        return _STRING
    if isinstance(field, serializers.ChoiceField) and all(isinstance(key, str) for key in field.choices):
        return _STRING
    return None


class StrictTypesMixin:
    """Refuses a value of the wrong JSON type for its field (null is left to `allow_null`), with
    the other fields' errors in the same 400."""

    def to_internal_value(self, data):
        type_errors = self._json_type_errors(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if type_errors and isinstance(exc.detail, dict):
                raise ValidationError({**exc.detail, **type_errors}) from exc
            raise
        if type_errors:
            raise ValidationError(type_errors)
        return value

    def _json_type_errors(self, data):
        errors = {}
        for field in self._writable_fields:
            if field.field_name not in data or data[field.field_name] is None:
                continue
            expected = _json_type(field)
            if expected is None:
                continue
            types, message = expected
            value = data[field.field_name]
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                errors[field.field_name] = [ErrorDetail(message, code="invalid")]
        return errors


class Serializer(StrictTypesMixin, serializers.Serializer):
    pass


class ModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    pass
