"""qpart hls package."""
