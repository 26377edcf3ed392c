"""Signing in: the login pages and their throttling, which slows guessing but never stops the
rightful holder of a password (issue 10, points 14 and 15). See throttle.py for the rules."""
