"""The register in the administrators' site.

Patches and properties are settings a system administrator keeps (who looks after which area);
every model holding personal data goes through PolicyAdmin, so the admin shows exactly what the
staff site would show the same user, read-only, and audits each record opened. No list filter
offers a foreign key: Django would list every related row (every person's name) as a choice.
"""

from django.contrib import admin
from django.contrib.auth.models import User

from access.roles import Role
from records import models
from records.policies import PERSON_FIELD_ROLES, person_field_allowed
from tmo.admin import AdministratorAdmin, PolicyAdmin, site

# The roles whose holders can be assigned to a patch.
PATCH_OFFICER_ROLES = (Role.HOUSING_OFFICER, Role.REPAIRS_OFFICER)


@admin.register(models.Patch, site=site)
class PatchAdmin(AdministratorAdmin):
    list_display = ("name", "officer_list")
    search_fields = ("name",)
    filter_horizontal = ("officers",)

    @admin.display(description="Officers")
    def officer_list(self, obj):
        return ", ".join(
            officer.get_full_name() or officer.username for officer in obj.officers.all()
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("officers")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "officers":
            kwargs["queryset"] = (
                User.objects.filter(is_active=True, groups__name__in=PATCH_OFFICER_ROLES)
                .distinct()
                .order_by("last_name", "first_name", "username")
            )
            kwargs.setdefault(
                "help_text", "Housing and repairs officers who look after this patch."
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(models.Property, site=site)
class PropertyAdmin(AdministratorAdmin):
    """Homes are not personal data on their own; their tenancies are not shown here."""

    list_display = ("reference", "address_line_1", "postcode", "patch", "property_type", "bedrooms")
    list_filter = ("patch", "property_type")
    list_select_related = ("patch",)
    search_fields = ("reference", "address_line_1", "postcode")


@admin.register(models.Person, site=site)
class PersonAdmin(PolicyAdmin):
    list_display = ("__str__", "preferred_contact_method", "updated_at")
    search_fields = ("first_name", "last_name", "preferred_name")

    def get_exclude(self, request, obj=None):
        # The same field rules as the staff site: no NI number or bank details for roles
        # whose work does not need them.
        return [name for name in PERSON_FIELD_ROLES if not person_field_allowed(request.user, name)]


@admin.register(models.Tenancy, site=site)
class TenancyAdmin(PolicyAdmin):
    list_display = ("reference", "property", "tenancy_type", "start_date", "end_date")
    list_filter = ("tenancy_type",)
    list_select_related = ("property",)
    search_fields = ("reference",)


@admin.register(models.HouseholdMember, site=site)
class HouseholdMemberAdmin(PolicyAdmin):
    list_display = ("__str__", "tenancy", "start_date", "end_date")
    list_filter = ("relationship",)
    list_select_related = ("person", "tenancy")


@admin.register(models.HousingApplication, site=site)
class HousingApplicationAdmin(PolicyAdmin):
    list_display = ("reference", "kind", "status", "received_on")
    list_filter = ("kind", "status")
    search_fields = ("reference",)


@admin.register(models.StaffRecord, site=site)
class StaffRecordAdmin(PolicyAdmin):
    list_display = ("__str__", "employee_number", "department", "start_date", "end_date")
    list_select_related = ("person",)


@admin.register(models.JobApplication, site=site)
class JobApplicationAdmin(PolicyAdmin):
    list_display = ("__str__", "received_on", "status")
    list_filter = ("status",)
    list_select_related = ("person",)


@admin.register(models.Contractor, site=site)
class ContractorAdmin(PolicyAdmin):
    list_display = ("name", "trade", "insurance_expires_on")
    search_fields = ("name", "trade")


@admin.register(models.ContractorContact, site=site)
class ContractorContactAdmin(PolicyAdmin):
    list_display = ("__str__", "role_title")
    list_select_related = ("person", "contractor")


@admin.register(models.ContractorBid, site=site)
class ContractorBidAdmin(PolicyAdmin):
    list_display = ("__str__", "submitted_on", "status")
    list_filter = ("status",)
    list_select_related = ("contractor",)


@admin.register(models.ContactRecord, site=site)
class ContactRecordAdmin(PolicyAdmin):
    list_display = ("__str__", "person", "channel", "topic")
    list_filter = ("channel", "topic")
    list_select_related = ("person",)


@admin.register(models.SensitiveInformation, site=site)
class SensitiveInformationAdmin(PolicyAdmin):
    list_display = ("__str__", "recorded_on")


@admin.register(models.AuthorisedRepresentative, site=site)
class AuthorisedRepresentativeAdmin(PolicyAdmin):
    list_display = ("__str__", "relationship", "scope", "valid_from", "expires_on")
    list_select_related = ("person",)


@admin.register(models.Marker, site=site)
class MarkerAdmin(PolicyAdmin):
    list_display = ("__str__", "person", "starts_on", "ends_on")
    list_filter = ("kind",)
    list_select_related = ("person",)


@admin.register(models.Document, site=site)
class DocumentAdmin(PolicyAdmin):
    list_display = ("title", "person", "kind", "uploaded_at")
    list_filter = ("kind",)
    list_select_related = ("person",)
