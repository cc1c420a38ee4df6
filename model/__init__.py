"""qpart model package."""
