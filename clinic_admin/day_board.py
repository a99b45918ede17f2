"""The admin site's Day board for reception: one column per doctor, one row per slot time of
a clinic-local day, each appointment with its patient and status, free slots and those held
for a waitlisted patient's offer, and the moves reception makes from it (confirm, cancel,
mark a no-show, book a free slot for a patient), each through the same service as the
API's."""

from datetime import date

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from appointments.selectors import appointment_day_board
from appointments.services import appointment_book, appointment_transition
from appointments.transitions import Action, transition_check
from core.admin import error_text
from core.clinic_time import clinic_today
from core.errors import DomainError
from patients.selectors import patient_find
from waitlist.selectors import offer_holding

# The moves reception makes from the board, offered where the transition table allows them.
MOVE_LABELS = {Action.CONFIRM: "Confirm", Action.CANCEL: "Cancel", Action.NO_SHOW: "No-show"}


class DayForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Day")


class MoveForm(forms.Form):
    date = forms.DateField()
    action = forms.ChoiceField(choices=[(a.value, a.value) for a in MOVE_LABELS])
    appointment = forms.UUIDField()


class BookForm(forms.Form):
    date = forms.DateField()
    slot = forms.UUIDField()
    patient = forms.CharField(max_length=254, label="Patient's username or email")


def _board_url(day: date) -> str:
    return f"{reverse('admin:day_board')}?date={day.isoformat()}"


def _post_apply(request) -> date:
    """Make the posted move or booking through its service; say how it went. Returns the day
    to show again."""
    form = (BookForm if "slot" in request.POST else MoveForm)(request.POST)
    if not form.is_valid():
        messages.error(
            request, "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return form.cleaned_data.get("date") or clinic_today()
    data = form.cleaned_data
    try:
        if isinstance(form, BookForm):
            patient = patient_find(username_or_email=data["patient"])
            if patient is None:
                messages.error(request, f"No patient is called {data['patient']!r}.")
                return data["date"]
            appointment = appointment_book(
                actor=request.user, patient=patient, slot_id=data["slot"]
            )
            messages.success(request, f"Booked for {patient}: {appointment.get_status_display()}.")
        else:
            action = Action(data["action"])
            appointment_transition(
                appointment_id=data["appointment"],
                action=action,
                actor=request.user,
                note="At reception." if action == Action.CANCEL else "",
            )
            messages.success(request, f"{MOVE_LABELS[action]}: done.")
    except DomainError as error:
        messages.error(request, error_text(error))
    return data["date"]


def _moves_offered(user, cell, now) -> list[tuple[str, str]]:
    """(action, label) of each move the transition table lets `user` make on the cell's
    appointment now; a free slot offers booking in the template instead."""
    if cell.appointment is None:
        return []
    offered = []
    for action, label in MOVE_LABELS.items():
        try:
            transition_check(appointment=cell.appointment, action=action, actor=user, now=now)
        except DomainError:
            continue
        offered.append((action.value, label))
    return offered


def day_board_view(request):
    """One clinic day of every doctor in good standing, for reception; GET shows the day,
    POST makes one move and shows it again (a refused move says why and changes nothing)."""
    if not request.user.has_perm("appointments.change_appointment"):
        raise PermissionDenied
    if request.method == "POST":
        return redirect(_board_url(_post_apply(request)))
    form = DayForm(request.GET or None, initial={"date": clinic_today()})
    day = form.cleaned_data["date"] if form.is_bound and form.is_valid() else clinic_today()
    board = appointment_day_board(day=day)
    held = offer_holding(slot_ids=[cell.slot.pk for cell in board.cells.values() if cell.slot])
    now = timezone.now()
    rows = [
        (
            start,
            [
                (
                    cell,
                    _moves_offered(request.user, cell, now),
                    cell.slot and held.get(cell.slot.pk),
                )
                for cell in cells
            ],
        )
        for start, cells in board.rows()
    ]
    context = {
        **admin.site.each_context(request),
        "title": f"Day board: {day:%A} {day.day} {day:%B %Y}",
        "form": form,
        "board": board,
        "rows": rows,
        "day": day,
        "now": now,
        "clinic_time_zone": settings.CLINIC_TIME_ZONE,
    }
    return TemplateResponse(request, "admin/day_board.html", context)
