from django.apps import AppConfig


class DoctorsConfig(AppConfig):
    name = "doctors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.models import Role
        from accounts.profiles import profile_renderer_register
        from accounts.signals import account_reactivated
        from doctors.api.serializers import doctor_profile_render
        from doctors.receivers import doctor_account_reactivated

        profile_renderer_register(role=Role.DOCTOR, renderer=doctor_profile_render)
        account_reactivated.connect(
            doctor_account_reactivated, dispatch_uid="doctor-account-reactivated"
        )
