"""The waitlist in the admin site: entries and offers are listed and viewed; staff withdraw
entries and decline or accept offers only with the actions, through `waitlist.services`, so
the holds, the next offers, the audit log and the notifications apply."""

from django.contrib import admin

from appointments.admin import PATIENT_SEARCH
from core.admin import ReadOnlyModelAdmin, rows_apply
from waitlist import services
from waitlist.models import WaitlistEntry, WaitlistOffer


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyModelAdmin):
    list_display = [
        "created_at",
        "patient",
        "doctor",
        "specialization",
        "date_from",
        "date_to",
        "earliest_time",
        "latest_time",
        "expires_at",
        "status",
    ]
    list_filter = ["status", "specialization"]
    search_fields = PATIENT_SEARCH
    list_select_related = ["patient__user", "doctor__user", "specialization"]
    date_hierarchy = "created_at"
    actions = ["withdraw"]

    @admin.action(description="Withdraw the selected entries")
    def withdraw(self, request, queryset):
        rows_apply(
            self,
            request,
            queryset,
            lambda entry: services.waitlist_entry_withdraw(entry_id=entry.pk, actor=request.user),
            done="Withdrew {count} entr(y/ies).",
        )


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "patient", "slot", "expires_at", "status", "appointment"]
    list_filter = ["status"]
    search_fields = PATIENT_SEARCH
    list_select_related = ["patient__user", "slot__doctor__user", "appointment"]
    date_hierarchy = "created_at"
    actions = ["accept", "decline"]

    @admin.action(description="Accept the selected offers (book for their patients)")
    def accept(self, request, queryset):
        rows_apply(
            self,
            request,
            queryset,
            lambda offer: services.waitlist_offer_accept(offer_id=offer.pk, actor=request.user),
            done="Booked {count} offer(s).",
        )

    @admin.action(description="Decline the selected offers")
    def decline(self, request, queryset):
        rows_apply(
            self,
            request,
            queryset,
            lambda offer: services.waitlist_offer_decline(offer_id=offer.pk, actor=request.user),
            done="Declined {count} offer(s).",
        )
