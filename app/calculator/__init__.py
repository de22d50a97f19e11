"""Deterministic eligibility, fee and benefit calculator over ``knowledge/policies/*.yaml``."""
