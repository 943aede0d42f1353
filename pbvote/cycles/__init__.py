"""Cycles domain."""
