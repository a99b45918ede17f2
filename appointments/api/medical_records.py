"""A patient's medical record, under /patients/{id}/medical-record/."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from appointments.api.serializers import MedicalRecordSerializer, MedicalRecordUpdateSerializer
from appointments.medical_records import (
    RecordAccess,
    medical_record_access,
    medical_record_encounters,
)
from patients.models import Patient
from patients.services import medical_record_read_record, patient_medical_record_update


@extend_schema(tags=["patients"])
class MedicalRecordView(GenericAPIView):
    """A patient's medical record. Read: the patient, admins, and a doctor with a confirmed or
    completed appointment with them; written: that doctor and admins. Anyone else gets 404."""

    serializer_class = MedicalRecordSerializer

    def _patient(self, request, pk, needs: RecordAccess) -> Patient:
        """The patient whose record `request.user` may read (`needs` READ) or write (WRITE),
        by `appointments.medical_records.medical_record_access`."""
        access = medical_record_access(user=request.user, patient_id=pk)
        if access is RecordAccess.NONE:
            raise NotFound()
        patient = get_object_or_404(Patient, pk=pk)
        if needs is RecordAccess.WRITE and access is not RecordAccess.WRITE:
            self.permission_denied(request, message="Patients cannot edit their medical record.")
        return patient

    def _record(self, patient: Patient) -> dict:
        """The record to show; every showing is written to the audit log."""
        # MedicalRecordSerializer reads the encounters off the patient.
        patient.encounters = medical_record_encounters(  # type: ignore[attr-defined]
            patient_id=patient.pk
        )
        medical_record_read_record(patient=patient)
        return MedicalRecordSerializer(patient).data

    @extend_schema(summary="Read a medical record")
    def get(self, request, pk):
        return Response(self._record(self._patient(request, pk, RecordAccess.READ)))

    @extend_schema(
        request=MedicalRecordUpdateSerializer,
        responses={200: MedicalRecordSerializer},
        summary="Update a medical record (the treating doctor, admin)",
    )
    def patch(self, request, pk):
        patient = self._patient(request, pk, RecordAccess.WRITE)
        serializer = MedicalRecordUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = patient_medical_record_update(patient=patient, **serializer.validated_data)
        return Response(self._record(patient))
