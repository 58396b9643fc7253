"""CA certificates: registration codes, registration with proof of possession, lifecycle."""
