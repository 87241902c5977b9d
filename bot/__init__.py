"""Leg-numbness triage assistant: triage engine, clinical language layer and their services."""
