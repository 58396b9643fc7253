"""Settings from the environment (prefix ``MQTT_CA_REGISTRY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./mqtt-ca-registry.db"

# A documented AccessKey pair that works out of the box against a local emulator. It protects
# nothing (it is public); set MQTT_CA_REGISTRY_ACCESS_KEYS to use your own.
LOCAL_ACCESS_KEY_ID = "LTAI5tLocalEmulatorKey"
LOCAL_ACCESS_KEY_SECRET = "local-emulator-secret"  # noqa: S105 - documented public test pair


class Settings(BaseSettings):
    """Every knob of the service. Each has a sane default; see the README's table."""

    model_config = SettingsConfigDict(env_prefix="MQTT_CA_REGISTRY_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///path or postgresql://user@host:port/db",
    )
    access_keys: SecretStr = Field(
        default=SecretStr(f"{LOCAL_ACCESS_KEY_ID}:{LOCAL_ACCESS_KEY_SECRET}"),
        description="AccessKey pairs for the Alibaba API: id:secret[,id:secret]",
    )
    api_token: SecretStr | None = Field(
        default=None, description="bearer token required by /v1 when set"
    )
    alibaba_verify_signatures: bool = Field(
        default=True, description="check Alibaba API signatures (off: any signature passes)"
    )
    seed_default_instance: bool = Field(
        default=True, description="create mqtt-cn-local in a freshly created database"
    )
    default_instance_id: str = "mqtt-cn-local"
    log_level: str = "INFO"

    # Limits.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_pem_bytes: int = Field(default=64 * 1024, ge=1024)
    max_chain_length: int = Field(default=10, ge=1, le=100)
    registration_code_ttl_seconds: int | None = Field(default=None, ge=1)
    max_unused_registration_codes: int = Field(default=100, ge=1)

    # Device authentication.
    security_level: int = Field(default=2, ge=0, le=5)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "sqlite+", "postgresql:", "postgresql+", "postgres:")):
            raise ValueError(
                "database_url must start with sqlite:/// or postgresql:// "
                "(e.g. sqlite:///./registry.db or postgresql://user@127.0.0.1:5432/db)"
            )
        return value

    @field_validator("api_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        return value


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment."""
    return Settings()
