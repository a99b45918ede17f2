from django.contrib import admin, messages

from doctors import services
from doctors.models import Doctor, Specialization


@admin.register(Specialization)
class SpecializationAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "specialization",
        "license_number",
        "years_of_experience",
        "rating",
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
    autocomplete_fields = ["user"]
    readonly_fields = [
        "rating",
        "rating_count",
        "is_blacklisted",
        "blacklisted_at",
        "blacklist_reason",
        "created_at",
        "updated_at",
    ]
    actions = ["blacklist", "unblacklist"]

    @admin.action(description="Blacklist the selected doctors")
    def blacklist(self, request, queryset):
        for doctor in queryset:
            services.doctor_blacklist(
                doctor=doctor, reason=f"Blacklisted by {request.user} in the admin site"
            )
        self.message_user(request, f"Blacklisted {queryset.count()} doctor(s).", messages.SUCCESS)

    @admin.action(description="Lift the blacklisting of the selected doctors")
    def unblacklist(self, request, queryset):
        for doctor in queryset:
            services.doctor_unblacklist(doctor=doctor)
        self.message_user(request, f"Unblacklisted {queryset.count()} doctor(s).", messages.SUCCESS)
