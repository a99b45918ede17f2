import django_filters
from django.db.models import F, Q

from doctors.models import Doctor, Specialization

# Ties end on the name and then the id: without a total order PostgreSQL may order equal rows
# differently for each page, so paging would show some doctors twice and others never.
_TIE_BREAK = ["user__last_name", "user__first_name", "pk"]
_ORDERINGS = {
    "rating": [F("rating").asc(nulls_last=True), *_TIE_BREAK],
    "-rating": [F("rating").desc(nulls_last=True), *_TIE_BREAK],
    "years_of_experience": ["years_of_experience", *_TIE_BREAK],
    "-years_of_experience": ["-years_of_experience", *_TIE_BREAK],
    "last_name": _TIE_BREAK,
}


class DoctorFilter(django_filters.FilterSet):
    specialization = django_filters.ModelChoiceFilter(queryset=Specialization.objects.all())
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Matches first or last name, license number or specialization name.",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in _ORDERINGS],
        method="filter_ordering",
        help_text="Unrated doctors come last whichever way `rating` is ordered.",
    )

    class Meta:
        model = Doctor
        fields = ["specialization"]

    def filter_search(self, queryset, name, value):
        terms = Q()
        for word in value.split():
            terms &= (
                Q(user__first_name__icontains=word)
                | Q(user__last_name__icontains=word)
                | Q(license_number__iexact=word)
                | Q(specialization__name__icontains=word)
            )
        return queryset.filter(terms)

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*_ORDERINGS[value])
