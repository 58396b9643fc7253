"""The audit trail: recorded in the same transaction as each change, listed per instance."""
