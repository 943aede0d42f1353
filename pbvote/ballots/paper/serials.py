"""Serial numbers of paper ballot sheets, and their QR codes.

A serial is eight digits: seven random ones (the first never 0) and a check digit by H. Michael
Damm's algorithm, which catches every single mistyped digit and every swap of two neighbouring
digits, the two slips a volunteer keying a sheet makes most.  Digits only, so that they are keyed on
a number pad and read aloud without ambiguity; random, so that a sheet's serial says nothing about
when or to whom it was handed out, and a typo almost never lands on another sheet.

The check digit is written here (twenty lines, no library does only this); the QR code comes from
``segno`` (pure Python, no external service), as an inline SVG a printed page carries with it.
"""
from __future__ import annotations

import re
import secrets

import segno
from markupsafe import Markup

#: Digits of a serial, the check digit included.
SERIAL_LENGTH = 8

#: Damm's quasigroup of order 10 (totally anti-symmetric): row = interim digit, column = next digit.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_NOT_DIGITS = re.compile(r"[\s\-–.]")


def check_digit(digits: str) -> str:
    """Damm's check digit of a string of digits."""
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][int(digit)]
    return str(interim)


def is_valid_serial(serial: str) -> bool:
    """Eight digits whose last one checks the other seven (Damm: the whole string checks to 0)."""
    return len(serial) == SERIAL_LENGTH and serial.isascii() and serial.isdigit() and check_digit(serial) == "0"


def normalize_serial(text: str | None) -> str:
    """What a volunteer typed or a scanner sent → the bare serial (spaces and dashes dropped)."""
    return _NOT_DIGITS.sub("", text or "")


def random_serial() -> str:
    """A fresh serial from the operating system's CSPRNG (uniqueness is the caller's: the database's)."""
    body = str(secrets.randbelow(9 * 10 ** (SERIAL_LENGTH - 2)) + 10 ** (SERIAL_LENGTH - 2))
    return body + check_digit(body)


def qr_svg(serial: str, scale: int = 3) -> Markup:
    """The serial as an inline SVG QR code (what a handheld scanner types is the serial alone)."""
    code = segno.make_qr(serial, error="m")
    return Markup(code.svg_inline(scale=scale, border=2, title=serial))
