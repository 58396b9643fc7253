"""Where the kit finds the registry when the command line does not say."""

URL_ENV = "MQTT_CA_REGISTRY_URL"
# The same variable the server reads its own token from.
TOKEN_ENV = "MQTT_CA_REGISTRY_API_TOKEN"  # noqa: S105 - a variable name, not a secret
DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_INSTANCE = "mqtt-cn-local"
