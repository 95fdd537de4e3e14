"""The dashboard's server-rendered pages: Django-admin look, everything read and written through services."""
