"""Signals of the ban lists, for the core apps layered above them (the log channel), which banlists may not import.

ban_list_logged(ban_list, event, actor, details): sent INSIDE the transaction of a change worth a post in the list's
own log chat (a ban, an unban, an import; the list's own changes may send it too), so the post commits or rolls back
with the change. `event`: "ban", "unban", "import" (or another of the list's changes: "delete", "update"...);
`actor`: the user (None: the calling service itself); `details`: what the post tells ("telegram_user_id", "reason",
"added", ...). Receivers write nothing when the list has no log chat.
"""

from django.dispatch import Signal

ban_list_logged = Signal()
