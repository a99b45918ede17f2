from django.contrib import admin

from accounts.admin import NewAccountForm
from core.admin import ServiceModelAdmin
from patients import services
from patients.models import Patient

PROFILE_FIELDS = ["date_of_birth", "gender", "contact_number"]
# What registration takes besides the account (the API's POST /patients/).
REGISTRATION_FIELDS = [*PROFILE_FIELDS, "insurance_provider", "insurance_policy_number"]
RECORD_FIELDS = ("insurance_provider", "insurance_policy_number", "allergies", "medical_history")


@admin.register(Patient)
class PatientAdmin(ServiceModelAdmin):
    """Patients are registered with their account (`patient_register`) and edited through the
    same services as the API: contact details by `patient_update`, the medical record by
    `patient_medical_record_update`. The record's fields are encrypted at rest: shown
    decrypted on the patient's own page, where every showing is written to the audit log as
    a read of the record, and never on the list."""

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
    readonly_fields = ["user", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["user", *PROFILE_FIELDS]}),
        ("Medical record (encrypted at rest)", {"fields": RECORD_FIELDS}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]
    add_form = NewAccountForm
    add_fieldsets = [
        ("Account", {"fields": list(NewAccountForm.ACCOUNT_FIELDS)}),
        ("Profile", {"fields": REGISTRATION_FIELDS}),
    ]

    @admin.display(description="email", ordering="user__email")
    def user_email(self, patient: Patient) -> str:
        return patient.user.email

    def has_delete_permission(self, request, obj=None):
        # Appointments and the audit trail keep pointing at the patient: deactivate instead.
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            services.medical_record_read_record(patient=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def service_create(self, request, form):
        data = form.cleaned_data
        return services.patient_register(
            **form.account_data(),
            **{field: data[field] for field in REGISTRATION_FIELDS},
        )

    def service_update(self, request, stored, form):
        changed = {field: form.cleaned_data[field] for field in form.changed_data}
        record = {f: v for f, v in changed.items() if f in services.MEDICAL_RECORD_FIELDS}
        profile = {f: v for f, v in changed.items() if f not in record}
        if profile:
            services.patient_update(patient=stored, **profile)
        if record:
            services.patient_medical_record_update(patient=stored, **record)
