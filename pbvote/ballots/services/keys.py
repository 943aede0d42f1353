"""Codes and keyed hashes: access codes, tracking codes, the voter's project order.

Written by hand (no library does "short, readable, single-use, stored as a keyed hash"): ``secrets``
for randomness, HMAC-SHA256 with the app's secret key for storage and derivation.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app

#: Unambiguous when read aloud or handwritten: no 0/O, 1/I/L, no U (looks like V).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


#: 12 symbols of 30: 58.9 bits of entropy (the issue asks for at least 40).
ACCESS_CODE_LENGTH = 12


#: 27 symbols of 30: 132.5 bits (a receipt's tracking code needs at least 128).
TRACKING_CODE_LENGTH = 27


GROUP = 4


LOOKUP_LENGTH = 12


TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _key(purpose: str) -> bytes:
    return f"pbvote-{purpose}:{current_app.config['SECRET_KEY']}".encode()


def _keyed_hash(purpose: str, message: str) -> str:
    return hmac.new(_key(purpose), message.encode(), hashlib.sha256).hexdigest()


def random_code(length: int = ACCESS_CODE_LENGTH) -> str:
    """``length`` symbols of :data:`CODE_ALPHABET` from the operating system's CSPRNG."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def format_code(code: str, group: int = GROUP) -> str:
    """``K7QM3HXP9RTA`` → ``K7QM-3HXP-9RTA`` (groups of four, easy to read aloud)."""
    return "-".join(code[i : i + group] for i in range(0, len(code), group))


def normalize_code(text: str | None) -> str:
    """What a person typed → the bare code: upper case, without spaces and dashes."""
    return re.sub(r"[\s\-–.]", "", (text or "")).upper()


def hash_access_code(code: str) -> str:
    return _keyed_hash("access-code", normalize_code(code))


def tracking_hash(code: str) -> str:
    """The public fingerprint of a tracking code (SHA-256; anyone can compute it from their code)."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def _code_from_digest(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    symbols = []
    for _position in range(length):
        number, index = divmod(number, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[index])
    return "".join(symbols)
