"""Device certificates: broker-side authentication, auto-registration, lifecycle."""
