"""Proposals domain."""
