from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ClinicAdminConfig(AppConfig):
    """The site's templates and static files (listed before Django's admin, so that its
    `admin/index.html` is the one used)."""

    default = True
    name = "clinic_admin"


class CareSlotAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with `CareSlotAdminSite` as `admin.site`."""

    default = False  # listed by its dotted path; "clinic_admin" alone means the one above
    default_site = "clinic_admin.sites.CareSlotAdminSite"
