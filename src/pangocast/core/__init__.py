"""Errors, the domain models, the show folder (Project), atomic files and time formats."""
