"""qpart data package."""
