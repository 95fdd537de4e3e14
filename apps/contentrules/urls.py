from django.urls import path

from . import apis

urlpatterns = [
    path("groups/<str:group_id>/locks", apis.GroupLocksApi.as_view(), name="contentrules-locks"),
    path("groups/<str:group_id>/blocklist", apis.GroupBlocklistApi.as_view(), name="contentrules-blocklist"),
    path("groups/<str:group_id>/blocklist/remove", apis.BlocklistRemoveApi.as_view(),
         name="contentrules-blocklist-remove"),
    path("groups/<str:group_id>/blocklist/clear", apis.BlocklistClearApi.as_view(),
         name="contentrules-blocklist-clear"),
    path("groups/<str:group_id>/filters", apis.GroupFiltersApi.as_view(), name="contentrules-filters"),
    path("groups/<str:group_id>/filters/remove", apis.FiltersRemoveApi.as_view(), name="contentrules-filters-remove"),
    path("groups/<str:group_id>/filters/clear", apis.FiltersClearApi.as_view(), name="contentrules-filters-clear"),
    path("groups/<str:group_id>/notes", apis.GroupNotesApi.as_view(), name="contentrules-notes"),
    # Before the note's own path: "remove" and "clear" are not note names (services.RESERVED_NOTE_NAMES).
    path("groups/<str:group_id>/notes/remove", apis.NotesRemoveApi.as_view(), name="contentrules-notes-remove"),
    path("groups/<str:group_id>/notes/clear", apis.NotesClearApi.as_view(), name="contentrules-notes-clear"),
    path("groups/<str:group_id>/notes/<str:note_name>", apis.GroupNoteApi.as_view(), name="contentrules-note"),
]
