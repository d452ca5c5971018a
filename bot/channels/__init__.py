"""Chat channels: where people meet the bot.

Each channel package translates its platform's traffic both ways and decides nothing:
inbound it turns activities into a `bot.commands.base.Caller` plus text or a card action
for the Router, and shows the Reply; outbound it implements `bot.notify.Notifier` for the
outbox. Only `bot.channels.teams` imports the Bot Framework SDK, so replacing it (by the
Microsoft 365 Agents SDK) touches one package. `presenter` holds what every channel
shows for an alert event, rendered from the domain.
"""
