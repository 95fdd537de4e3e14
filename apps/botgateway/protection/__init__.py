"""Group protection in the bot: the sensor and the hand. Core owns the settings and every decision that touches a
member; this package keeps each group's settings cached (by version), evaluates them on the message stream and asks
core to record each automated action before it acts on Telegram."""
