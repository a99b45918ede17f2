from django.apps import AppConfig


class DoctorsConfig(AppConfig):
    name = "doctors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.models import Role
        from accounts.profiles import profile_renderer_register
        from doctors.api.serializers import doctor_profile_render

        profile_renderer_register(role=Role.DOCTOR, renderer=doctor_profile_render)
