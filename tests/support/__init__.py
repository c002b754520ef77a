"""Helpers for the test suite: a throwaway PostgreSQL cluster and browser discovery."""
