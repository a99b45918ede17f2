from uuid import UUID

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters

from accounts.admin import NewAccountForm
from core.admin import ServiceModelAdmin, rows_apply
from doctors import services
from doctors.models import Doctor, Specialization


class DoctorListFilter(admin.SimpleListFilter):
    """Filter any list by doctor, the choices read in one query (Django's related-field
    filter would load each doctor's account separately to name it)."""

    title = "doctor"
    parameter_name = "doctor"
    doctor_field = "doctor_id"

    def lookups(self, request, model_admin):
        doctors = Doctor.objects.select_related("user").order_by(
            "user__last_name", "user__first_name"
        )
        return [(str(doctor.pk), str(doctor)) for doctor in doctors]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            doctor_id = UUID(self.value())
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error  # the admin's "?e=1" page
        return queryset.filter(**{self.doctor_field: doctor_id})


@admin.register(Specialization)
class SpecializationAdmin(ServiceModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]

    def service_create(self, request, form):
        return services.specialization_create(name=form.cleaned_data["name"])

    def service_update(self, request, stored, form):
        services.specialization_update(specialization=stored, name=form.cleaned_data["name"])

    def service_delete(self, request, obj):
        services.specialization_delete(specialization=obj)


@admin.register(Doctor)
class DoctorAdmin(ServiceModelAdmin):
    """Doctors are added with their account (`doctor_create`) and edited through
    `doctor_update`; blacklisting is an action. Ratings and the blacklisting fields are
    read-only: only the services write them. A doctor is never deleted here (appointments
    keep pointing at them): blacklist instead."""

    list_display = [
        "__str__",
        "specialization",
        "license_number",
        "years_of_experience",
        "rating",
        "rating_count",
        "requires_approval",
        "is_blacklisted",
    ]
    list_filter = ["specialization", "is_blacklisted", "requires_approval"]
    search_fields = [
        "user__first_name",
        "user__last_name",
        "user__email",
        "user__username",
        "license_number",
    ]
    list_select_related = ["user", "specialization"]
    readonly_fields = [
        "user",
        "rating",
        "rating_count",
        "is_blacklisted",
        "blacklisted_at",
        "blacklist_reason",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["user", "specialization", "license_number", "years_of_experience"]}),
        (
            "Practice",
            {"fields": ["bio", "requires_approval", "cancel_cutoff", "reschedule_cutoff"]},
        ),
        ("Rating", {"fields": ["rating", "rating_count"]}),
        ("Standing", {"fields": ["is_blacklisted", "blacklisted_at", "blacklist_reason"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    add_form = NewAccountForm
    add_fieldsets = [
        ("Account", {"fields": list(NewAccountForm.ACCOUNT_FIELDS)}),
        (
            "Profile",
            {
                "fields": [
                    "specialization",
                    "license_number",
                    "years_of_experience",
                    "bio",
                    "requires_approval",
                ]
            },
        ),
    ]
    actions = ["blacklist", "unblacklist"]

    def has_delete_permission(self, request, obj=None):
        return False

    def service_create(self, request, form):
        data = form.cleaned_data
        return services.doctor_create(
            **form.account_data(),
            **{field: data[field] for field in services.DOCTOR_PROFILE_FIELDS if field in data},
        )

    def service_update(self, request, stored, form):
        changes = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in services.DOCTOR_PROFILE_FIELDS
        }
        if changes:
            services.doctor_update(doctor=stored, **changes)

    @admin.action(description="Blacklist the selected doctors")
    def blacklist(self, request, queryset):
        reason = f"Blacklisted by {request.user} in the admin site"
        rows_apply(
            self,
            request,
            queryset,
            lambda doctor: services.doctor_blacklist(doctor=doctor, reason=reason),
            done="Blacklisted {count} doctor(s).",
        )

    @admin.action(description="Lift the blacklisting of the selected doctors")
    def unblacklist(self, request, queryset):
        rows_apply(
            self,
            request,
            queryset,
            lambda doctor: services.doctor_unblacklist(doctor=doctor),
            done="Unblacklisted {count} doctor(s).",
        )
