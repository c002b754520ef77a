"""Norms Forum: fan communities deliberate and publish their content norms."""
