"""Import an existing learning journal: repair its text, parse its posts, record its sessions."""
