"""The security regression suite: one test per finding of the attack from the outside, at the HTTP
level (the test client), on SQLite and on PostgreSQL like the rest of the suite."""
