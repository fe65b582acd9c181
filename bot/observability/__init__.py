"""Metrics, health and interaction timing for operators."""
