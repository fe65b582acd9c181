"""Everything Nexus does in Discord after a commit: channel posts kept in step with their records,
notices, notifications and the follow-up matching. Use cases return events; `Delivery` carries
them out. (Kept empty of imports: `bot.app` imports `bot.delivery.outcome` on its own.)"""
