"""Request and response shapes of the instances API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mqtt_ca_registry.models.instance import Edition

INSTANCE_ID_PATTERN = r"^[a-z][a-z0-9-]{2,63}$"

InstanceId = Annotated[str, StringConstraints(pattern=INSTANCE_ID_PATTERN)]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=128)]


class InstanceCreate(BaseModel):
    """A new instance. Certificates can be managed only on `enterprise_platinum`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "staging broker", "edition": "enterprise_platinum", "tags": {"env": "ci"}}
            ]
        },
    )

    instance_id: InstanceId | None = Field(
        default=None,
        description=(
            "Your own id (^[a-z][a-z0-9-]{2,63}$); generated as mqtt-cn-xxxxxxxxxx if omitted."
        ),
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    edition: Edition
    region_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")] = "cn-local"
    tags: dict[TagKey, TagValue] = Field(default_factory=dict, max_length=20)


class InstanceOut(BaseModel):
    """An MQTT instance."""

    model_config = ConfigDict(from_attributes=True)

    instance_id: str
    name: str
    edition: Edition
    instance_type: int = Field(description="Alibaba InstanceType code of the edition.")
    region_id: str
    tags: dict[str, str]
    created_at: datetime
