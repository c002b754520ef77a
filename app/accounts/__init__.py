"""Accounts: users, passwords, browser sessions and personal access tokens."""
