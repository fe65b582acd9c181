"""Nexus: the Discord bot for the ALX ProDev Backend Project Nexus cohort."""

__version__ = "0.1.0"
