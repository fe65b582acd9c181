"""Thin feature cogs: parse the interaction, call a service, render the result."""
