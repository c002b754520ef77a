"""Communities: their members, roles and the record of every role change."""
