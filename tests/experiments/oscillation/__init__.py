"""Oscillation experiments (Borexino 2018, KamLAND 2011) and their joint fits."""
