"""Ban lists shared by many groups (federations, issue 16): the /fed... commands (commands.py), the cache of each
list's banned ids (cache.py), the checks on arrival (enforce.py) and the worker that carries a ban to every
subscribed group (worker.py)."""
