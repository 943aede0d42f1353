"""Ballots domain."""
