"""Vendor-neutral core: request/reply types, reply events, errors, models and tokens."""
