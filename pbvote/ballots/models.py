"""Ballots: online votes and (coming next) paper ballots keyed by volunteers.

The voting tables arrive with the online-voting work; this module is where they live.
"""
