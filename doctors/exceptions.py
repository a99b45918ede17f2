from core.errors import DomainError, ValueTaken


class SpecializationInUse(DomainError):
    code = "specialization_in_use"
    message = "Doctors still hold this specialization; move them first."


class SpecializationNameTaken(ValueTaken):
    message = "A specialization with this name already exists."
    attr = "name"


class LicenseNumberTaken(ValueTaken):
    message = "A doctor with this license number exists."
    attr = "license_number"
