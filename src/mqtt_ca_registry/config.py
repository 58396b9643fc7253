"""Settings from the environment (prefix ``MQTT_CA_REGISTRY_``), each validated when read.

docs/configuration.md lists them all; a test keeps that page and the defaults here in step.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "MQTT_CA_REGISTRY_"
DEFAULT_DATABASE_URL = "sqlite:///./mqtt-ca-registry.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# A documented AccessKey pair that works out of the box against a local emulator. It protects
# nothing (it is public); set MQTT_CA_REGISTRY_ACCESS_KEYS to use your own.
LOCAL_ACCESS_KEY_ID = "LTAI5tLocalEmulatorKey"
LOCAL_ACCESS_KEY_SECRET = "local-emulator-secret"  # noqa: S105 - documented public test pair


def parse_access_keys(text: str) -> dict[str, str]:
    """Parse ``id:secret[,id:secret]`` into ``{id: secret}``; errors never quote a secret."""
    keys: dict[str, str] = {}
    for position, entry in enumerate(text.split(","), start=1):
        key_id, colon, secret = entry.strip().partition(":")
        key_id, secret = key_id.strip(), secret.strip()
        if not colon or not key_id or not secret or any(c.isspace() for c in key_id):
            raise ValueError(
                f"access keys entry {position} is malformed: expected 'id:secret' with a "
                "non-empty id (no spaces) and secret, entries separated by ','"
            )
        if key_id in keys:
            raise ValueError(f"access keys entry {position} repeats AccessKeyId {key_id!r}")
        keys[key_id] = secret
    return keys


class Settings(BaseSettings):
    """Every knob of the service. Each has a sane default; see docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///path or postgresql://user:password@host:port/database",
    )
    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="address `serve` listens on (0.0.0.0: every interface); --host wins",
    )
    port: int = Field(
        default=8000, ge=1, le=65535, description="port `serve` listens on; --port wins"
    )
    access_keys: SecretStr = Field(
        default=SecretStr(f"{LOCAL_ACCESS_KEY_ID}:{LOCAL_ACCESS_KEY_SECRET}"),
        description="AccessKey pairs for the Alibaba API: id:secret[,id:secret]",
    )
    api_token: SecretStr | None = Field(
        default=None, description="bearer token required by /v1 when set"
    )
    alibaba_verify_signatures: bool = Field(
        default=True, description="check Alibaba API signatures (false: any signature passes)"
    )
    seed_default_instance: bool = Field(
        default=True, description="create the default instance in a freshly created database"
    )
    default_instance_id: str = Field(
        default="mqtt-cn-local", description="id of the default instance"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text, or json: one JSON object per line"
    )

    # Limits.
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest request body, in bytes"
    )
    max_pem_bytes: int = Field(
        default=64 * 1024, ge=1024, description="largest certificate input, in bytes"
    )
    max_chain_length: int = Field(
        default=10, ge=1, le=100, description="most certificates in a device chain"
    )
    registration_code_ttl_seconds: int | None = Field(
        default=None, ge=1, description="registration codes expire after this (unset: never)"
    )
    max_unused_registration_codes: int = Field(
        default=100, ge=1, description="unused registration codes kept per instance"
    )

    # Device authentication.
    security_level: int = Field(
        default=2, ge=0, le=5, description="OpenSSL security level for device chains"
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "sqlite+", "postgresql:", "postgresql+", "postgres:")):
            raise ValueError(
                "must start with sqlite:/// or postgresql:// "
                "(e.g. sqlite:///./registry.db or postgresql://user@127.0.0.1:5432/db)"
            )
        return value

    @field_validator("access_keys")
    @classmethod
    def _well_formed_keys(cls, value: SecretStr) -> SecretStr:
        parse_access_keys(value.get_secret_value())
        return value

    @field_validator("api_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment."""
    return Settings()
