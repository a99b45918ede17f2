from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from audit.services import audit_record

        # The admin site signs in with sessions; the API's token view audits its own sign-ins.
        def audit_session(action):
            def receiver(sender, request, user, **kwargs):
                if user is not None:
                    audit_record(action=action, target_type="user", target_id=user.pk, actor=user)

            return receiver

        self._sign_in = audit_session("sign_in")
        self._sign_out = audit_session("logout")
        user_logged_in.connect(self._sign_in, dispatch_uid="careslot-audit-sign-in")
        user_logged_out.connect(self._sign_out, dispatch_uid="careslot-audit-sign-out")
