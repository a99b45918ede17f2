from django.contrib import admin

from patients.models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    # Encrypted fields are shown decrypted on the change page only, never in the list.
    list_display = [
        "__str__",
        "user_email",
        "date_of_birth",
        "gender",
        "contact_number",
        "created_at",
    ]
    list_filter = ["gender"]
    search_fields = ["user__first_name", "user__last_name", "user__email", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="email", ordering="user__email")
    def user_email(self, patient: Patient) -> str:
        return patient.user.email
