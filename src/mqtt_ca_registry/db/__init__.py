"""Database plumbing: declarative base, engines, per-request sessions."""
