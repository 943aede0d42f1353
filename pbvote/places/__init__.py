"""Places: the city's districts.

Below every domain (``auth`` names a resident's home district, ``cycles`` gives a district its
budget, ``ballots`` limits an access code to one), so it imports none of them.
"""
