"""Discord rendering: embeds, views, persistent DynamicItems."""
