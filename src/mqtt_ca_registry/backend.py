"""The backend: every service over one database, clock and settings (moto's word for it).

Front ends (the REST routers, the Alibaba adapters, and the console and MQTT gateway to come)
hold one :class:`Backend` (``app.state.backend``) and reach the registry only through it:

* ``async with backend.read() as services`` / ``backend.write()``: the services over one unit
  of work, committed when the block ends without an error (a write), rolled back otherwise;
* ``backend.authenticator``: the connect decision, which runs its own short statements.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mqtt_ca_registry.ca_certificates.service import CaCertificateService
from mqtt_ca_registry.clock import Clock
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.db.session import Database
from mqtt_ca_registry.db.unit_of_work import Work
from mqtt_ca_registry.device_certificates.authentication import Authenticator
from mqtt_ca_registry.device_certificates.caches import AuthenticationCaches
from mqtt_ca_registry.device_certificates.connect_repository import ConnectRepository
from mqtt_ca_registry.device_certificates.service import DeviceService
from mqtt_ca_registry.events.repository import EventRepository
from mqtt_ca_registry.instances.service import InstanceService


class Services:
    """The services over one unit of work (building them costs nothing until they query)."""

    def __init__(self, work: Work, backend: Backend) -> None:
        clock = backend.clock
        self.instances = InstanceService(work, clock)
        self.cas = CaCertificateService(work, clock, backend.settings)
        self.devices = DeviceService(work, backend.connects, clock)
        self.events = EventRepository(work)  # until the events service lands


class Backend:
    """What a process serves from: one per app (and so one per worker process)."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        settings: Settings,
        caches: AuthenticationCaches | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.connects = ConnectRepository(database.dispatch)
        self.authenticator = Authenticator(
            self.connects, clock, settings, caches or AuthenticationCaches()
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Services]:
        """Services for reading (one snapshot on PostgreSQL; nothing to commit)."""
        async with self.database.unit_of_work() as work:
            yield Services(work, self)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Services]:
        """Services for a change: all of it commits at the end of the block, or none of it."""
        async with self.database.unit_of_work(write=True) as work:
            yield Services(work, self)
