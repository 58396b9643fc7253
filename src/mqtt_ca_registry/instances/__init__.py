"""MQTT instances: create, list, get, delete."""
