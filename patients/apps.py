from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.models import Role
        from accounts.profiles import profile_renderer_register
        from patients.api.serializers import patient_profile_render

        profile_renderer_register(role=Role.PATIENT, renderer=patient_profile_render)
