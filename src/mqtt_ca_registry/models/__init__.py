"""ORM models, one module per table. Importing this package registers every table."""

from mqtt_ca_registry.models.ca_binding import CaBinding, CaBindingStatus
from mqtt_ca_registry.models.ca_certificate import CaCertificate
from mqtt_ca_registry.models.device_certificate import (
    DeviceCertificate,
    DeviceCertificatePem,
    DeviceStatus,
)
from mqtt_ca_registry.models.event import Event
from mqtt_ca_registry.models.instance import Edition, Instance
from mqtt_ca_registry.models.registration_code import RegistrationCode

__all__ = [
    "CaBinding",
    "CaBindingStatus",
    "CaCertificate",
    "DeviceCertificate",
    "DeviceCertificatePem",
    "DeviceStatus",
    "Edition",
    "Event",
    "Instance",
    "RegistrationCode",
]
