"""The Library: every recording a user has opened, with its annotations, history and results."""
