"""The settings as the command line shows them: in ``--help`` with their defaults, and in
``mqtt-ca-registry config`` with their effective values, secrets masked."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr, ValidationError

from mqtt_ca_registry.config import (
    ENV_PREFIX,
    LOCAL_ACCESS_KEY_ID,
    LOCAL_ACCESS_KEY_SECRET,
    Settings,
    parse_access_keys,
)

MASK = "********"
PUBLIC_ACCESS_KEYS = f"{LOCAL_ACCESS_KEY_ID}:{LOCAL_ACCESS_KEY_SECRET}"


@dataclass(frozen=True)
class SettingLine:
    """One setting: its environment variable, default, effective value and meaning."""

    variable: str
    default: str
    value: str
    description: str


def variable_name(field: str) -> str:
    """The environment variable of a Settings field."""
    return ENV_PREFIX + field.upper()


def shown(value: object) -> str:
    """A setting's value as the environment would spell it; secrets are masked."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, SecretStr):
        return _masked_secret(value.get_secret_value())
    return str(value)


def _masked_secret(secret: str) -> str:
    if secret == PUBLIC_ACCESS_KEYS:
        return secret  # the documented public pair protects nothing: show that it is in use
    try:  # AccessKey pairs: the ids tell which keys are configured; the secrets stay hidden
        return ",".join(f"{key_id}:{MASK}" for key_id in parse_access_keys(secret))
    except ValueError:
        return MASK


def _masked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{netloc[2]}"))


def setting_lines(settings: Settings | None = None) -> list[SettingLine]:
    """Every setting, in declaration order; ``value`` is ``settings``' (masked) if given."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = shown(field.get_default(call_default_factory=True))
        value = default
        if settings is not None:
            value = shown(getattr(settings, name))
            if name == "database_url":
                value = _masked_url(value)
        lines.append(SettingLine(variable_name(name), default, value, field.description or ""))
    return lines


def help_epilog() -> str:
    """The settings block of ``--help``: each variable with its default, then its meaning."""
    rows = "\n".join(
        f"  {row.variable} (default: {row.default})\n      {row.description}"
        for row in setting_lines()
    )
    return (
        "settings, from environment variables (flags win over them; details in\n"
        "docs/configuration.md; `mqtt-ca-registry config` prints the effective values):\n" + rows
    )


def config_report(settings: Settings) -> str:
    """The effective settings, one ``VARIABLE=value`` line each, secrets masked."""
    return "\n".join(f"{row.variable}={row.value}" for row in setting_lines(settings))


def setting_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting, naming its variable and what it must be (never its value:
    it may be a secret)."""
    lines = []
    for problem in error.errors():
        location = "_".join(str(part) for part in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        if location:
            lines.append(f"invalid setting {variable_name(location)}: {message}")
        else:
            lines.append(f"invalid settings: {message}")
    return lines
