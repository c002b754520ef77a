"""Proposals: drafted norms, revisions and diffs, co-authors, lifecycle, search, follows."""
