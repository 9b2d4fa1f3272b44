"""Oscillation engine tests (nsijax.physics.oscillation, nsijax.physics.oscillation.earth, nsijax.physics.oscillation.sun)."""
