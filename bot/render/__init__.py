"""Images Nexus draws (charts), from the domain's numbers; no Discord, no database."""
