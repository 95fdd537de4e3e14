"""Running test code on several threads at once, each with its own database connection."""

import threading

from django.db import connection


def run_threads(target, count: int) -> list:
    """Calls `target(index)` on `count` threads that start together (a barrier); returns the exceptions raised.
    Each thread closes its database connection when done."""
    barrier = threading.Barrier(count)
    errors = []

    def worker(index):
        try:
            barrier.wait()
            target(index)
        except Exception as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
