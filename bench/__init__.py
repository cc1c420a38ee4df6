"""qpart bench package."""
