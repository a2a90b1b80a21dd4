import pytest
from rest_framework import serializers

from core.serializers import SnowflakeField


class S(serializers.Serializer):
    user_id = SnowflakeField()


def test_snowflakes_are_strings_in_json():
    assert S({"user_id": 80351110224678912}).data == {"user_id": "80351110224678912"}


@pytest.mark.parametrize("value", ["80351110224678912", 80351110224678912])
def test_snowflakes_accept_strings_and_integers(value):
    s = S(data={"user_id": value})
    assert s.is_valid() and s.validated_data["user_id"] == 80351110224678912


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1e5", True, 2**63, None, "", "12 34"])
def test_bad_snowflakes_are_refused_clearly(value):
    s = S(data={"user_id": value})
    assert not s.is_valid()
