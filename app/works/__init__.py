"""Example works and their lineage."""
