"""mqtt-ca-registry: an emulator of the ApsaraMQ for MQTT CA-certificate registry."""

__version__ = "0.1.0"
