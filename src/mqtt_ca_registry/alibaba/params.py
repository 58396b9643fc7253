"""Reading Alibaba action parameters: missing or invalid ones are ParameterFieldCheckFailed."""

from __future__ import annotations

from collections.abc import Iterable

from mqtt_ca_registry.errors import ErrorCode, InvalidInputError

# Parameters of the signature schemes and common envelope, not of any action.
COMMON = frozenset(
    {
        "Action", "Version", "Format", "Timestamp", "SignatureNonce", "SignatureMethod",
        "SignatureVersion", "AccessKeyId", "Signature", "SecurityToken", "RegionId",
    }
)  # fmt: skip
MAX_PAGE_SIZE = 100
MAX_PAGE_NO = 100_000_000  # keeps (PageNo - 1) * PageSize inside a 64-bit OFFSET


class Params:
    """Decoded query and form parameters of one call (form values win over the query)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        for key, value in pairs:
            self._values[key] = value

    def optional(self, name: str) -> str | None:
        return self._values.get(name)

    def required(self, name: str) -> str:
        value = self._values.get(name)
        if value is None or value.strip() == "":
            raise InvalidInputError(
                ErrorCode.INVALID_PARAMETER, f"The parameter {name} is required.", field=name
            )
        return value

    def positive_int(self, name: str, *, maximum: int | None = None) -> int:
        text = self.required(name)
        bound = f" and at most {maximum}" if maximum else ""
        try:
            value = int(text.strip())
        except ValueError:
            value = 0
        if value < 1 or (maximum is not None and value > maximum):
            raise InvalidInputError(
                ErrorCode.INVALID_PARAMETER,
                f"The parameter {name} must be a whole number from 1{bound}; got {text[:20]!r}.",
                field=name,
            )
        return value

    def page(self) -> tuple[int, int]:
        """(PageNo, PageSize) with PageSize 1-100."""
        return (
            self.positive_int("PageNo", maximum=MAX_PAGE_NO),
            self.positive_int("PageSize", maximum=MAX_PAGE_SIZE),
        )
