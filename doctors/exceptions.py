from core.errors import DomainError


class SpecializationInUse(DomainError):
    code = "specialization_in_use"
    default_detail = "Doctors still hold this specialization; move them first."
