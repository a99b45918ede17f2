from rest_framework import serializers

from accounts.models import full_name


class FullNameField(serializers.CharField):
    """A person's full name as `User.get_full_name` writes it, read-only. From the row's own
    name columns `<person>_first_name` and `<person>_last_name` when its query selected them
    (lists do, so that they build no related objects), otherwise from `<person>.user`."""

    def __init__(self, person: str, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)
        self.person = person
        self.first_name = f"{person}_first_name"
        self.last_name = f"{person}_last_name"

    def to_representation(self, row) -> str:
        first_name = getattr(row, self.first_name, None)
        if first_name is None:
            return getattr(row, self.person).user.get_full_name()
        return full_name(first_name, getattr(row, self.last_name))
