"""Admin pages for RBAC. Every change goes through the services, so it is rank-checked, versioned and audited."""

from django import forms
from django.contrib import admin, messages

from apps.common.admin import ReadOnlyAdmin
from apps.common.context import bind_context
from apps.common.errors import DomainError

from .models import Permission, Role, RoleAssignment
from .selectors import assignment_status, role_permission_codes
from .services import role_assign, role_create, role_revoke, role_update


class ServiceBackedAdmin(admin.ModelAdmin):
    """Saves through a service; a refused change is shown as an error message instead of a crash."""

    def save_via_service(self, request, obj, form, change):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        bind_context(service="admin")
        try:
            self.save_via_service(request, obj, form, change)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            raise _Refused from exc

    def save_related(self, request, form, formsets, change):
        """Many-to-many fields are set by the service."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused:
            from django.http import HttpResponseRedirect

            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        return False


class _Refused(Exception):
    pass


@admin.register(Permission)
class PermissionAdmin(ReadOnlyAdmin):
    list_display = ["code", "description"]


@admin.register(Role)
class RoleAdmin(ServiceBackedAdmin):
    list_display = ["name", "rank", "is_builtin", "permission_list", "description"]
    filter_horizontal = ["permissions"]
    fields = ["name", "rank", "description", "permissions", "is_builtin"]

    def get_readonly_fields(self, request, obj=None):
        return ["name", "is_builtin"] if obj else ["is_builtin"]

    @admin.display(description="permissions")
    def permission_list(self, role):
        return ", ".join(role_permission_codes(role))

    def save_via_service(self, request, obj, form, change):
        codes = [permission.code for permission in form.cleaned_data["permissions"]]
        if change:
            original = Role.objects.get(pk=obj.pk)
            role_update(role=original, rank=obj.rank, description=obj.description, permissions=codes,
                        actor=request.user)
        else:
            created = role_create(name=obj.name, rank=obj.rank, description=obj.description, permissions=codes,
                                  actor=request.user)
            obj.pk = created.pk


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ["user", "role", "group", "expires_at", "reason"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ServiceBackedAdmin):
    form = AssignmentForm
    list_display = ["user", "role", "scope", "status", "source", "created_at", "expires_at", "revoked_at"]
    list_filter = ["role", "source"]
    search_fields = ["user__username", "user__telegram_username"]
    list_select_related = ["user", "role"]
    autocomplete_fields = ["user"]
    actions = ["revoke_selected"]

    @admin.display(description="status")
    def status(self, assignment):
        return assignment_status(assignment)

    def has_change_permission(self, request, obj=None):
        return obj is None  # the changelist and its actions, never an edit form: history is not rewritten

    def save_via_service(self, request, obj, form, change):
        data = form.cleaned_data
        assignment, created = role_assign(user=data["user"], role=data["role"], group=data["group"],
                                          expires_at=data["expires_at"], reason=data["reason"], actor=request.user)
        obj.pk = assignment.pk
        if not created:
            self.message_user(request, "The user already holds this role in that scope.", messages.WARNING)

    @admin.action(description="Revoke selected assignments")
    def revoke_selected(self, request, queryset):
        bind_context(service="admin")
        revoked = 0
        for assignment in queryset.select_related("role", "group").filter(revoked_at__isnull=True):
            try:
                role_revoke(assignment=assignment, reason="revoked in admin", actor=request.user)
                revoked += 1
            except DomainError as exc:
                self.message_user(request, f"{assignment}: {exc.message}", messages.ERROR)
        self.message_user(request, f"Revoked {revoked} assignment(s).", messages.SUCCESS)
