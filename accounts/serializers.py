from rest_framework import serializers

from .validators import USERNAME_PATTERN


class RegistrationSerializer(serializers.Serializer):
    username = serializers.RegexField(USERNAME_PATTERN, max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, write_only=True, trim_whitespace=False)


class SelfRegistrationSerializer(RegistrationSerializer):
    # Start two-factor enrolment at once: the answer carries the authenticator app's data.
    totp = serializers.BooleanField(default=False)


class UserSerializer(serializers.Serializer):
    sub = serializers.CharField(source="subject")
    username = serializers.CharField()
    email = serializers.EmailField()
    email_verified = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
