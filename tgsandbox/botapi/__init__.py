"""The Bot API methods: Telegram's rules, result shapes and error texts, over a :class:`~tgsandbox.world.World`.

* :mod:`.dispatch` -- ``handle()``: token, the method table (:data:`~.dispatch.METHODS`), faults, call log;
* :mod:`.params` -- a request's parameters with the Bot API server's parsing rules;
* :mod:`.checks` -- what the methods share: which chat the bot may act in, text, replies, markup;
* the methods by family: :mod:`.identity` (getMe, commands), :mod:`.updates` (getUpdates, webhook),
  :mod:`.messages` (send, forward, copy, edit, delete), :mod:`.chats` (chat info, members, pins, leaving),
  :mod:`.moderation` (ban, unban, restrict, promote, permissions, titles), :mod:`.callbacks`.

Error texts follow the Bot API server and TDLib (what a bot really receives); where Telegram has
several paths the sandbox models the one a moderation bot meets (see the package README).
"""
