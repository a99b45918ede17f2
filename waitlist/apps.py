from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "waitlist"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from doctors.signals import doctor_unblacklisted
        from scheduling.signals import slots_opened
        from waitlist.receivers import doctor_slots_offer, opened_slots_offer

        slots_opened.connect(opened_slots_offer, dispatch_uid="waitlist-slots-opened")
        doctor_unblacklisted.connect(doctor_slots_offer, dispatch_uid="waitlist-unblacklisted")
