"""Oscillation engine tests (nsijax.oscillation, nsijax.earth, nsijax.sun)."""
