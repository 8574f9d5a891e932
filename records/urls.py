from django.urls import include, path

from records.views import (
    contacts,
    contractors,
    dashboard,
    documents,
    equalities,
    households,
    people,
    staff,
)

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("people/", people.person_search, name="person_search"),
    path("people/new/", people.person_create, name="person_create"),
    path("people/due-for-reconfirmation/", people.reconfirmation_list, name="reconfirmation_list"),
    path("people/<int:pk>/", people.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", people.person_edit, name="person_edit"),
    path(
        "people/<int:pk>/confirm-details/",
        people.contact_details_confirm,
        name="contact_details_confirm",
    ),
    path("people/<int:pk>/markers/new/", people.marker_create, name="marker_create"),
    path(
        "people/<int:pk>/representatives/new/",
        people.representative_create,
        name="representative_create",
    ),
    path(
        "people/<int:pk>/sensitive-information/new/",
        people.sensitive_information_create,
        name="sensitive_information_create",
    ),
    path(
        "people/<int:pk>/equality-monitoring/",
        equalities.equality_answers,
        name="equality_answers",
    ),
    path("equality-figures/", equalities.equality_figures, name="equality_figures"),
    path(
        "equality-figures/export.csv", equalities.equality_figures_csv, name="equality_figures_csv"
    ),
    path("people/<int:pk>/timeline/", contacts.person_timeline, name="person_timeline"),
    path(
        "people/<int:pk>/contacts/new/",
        contacts.contact_record_create,
        name="contact_record_create",
    ),
    path("contacts/<int:pk>/", contacts.contact_record_detail, name="contact_record_detail"),
    path("people/<int:pk>/documents/new/", documents.document_upload, name="document_upload"),
    path("documents/<int:pk>/download/", documents.document_download, name="document_download"),
    path("tenancies/", households.tenancy_list, name="tenancy_list"),
    path("tenancies/<int:pk>/", households.tenancy_detail, name="tenancy_detail"),
    path(
        "tenancies/<int:pk>/members/new/",
        households.household_member_add,
        name="household_member_add",
    ),
    path("properties/<int:pk>/", households.property_detail, name="property_detail"),
    path("hr/", staff.hr_home, name="hr_home"),
    path("hr/staff/<int:pk>/", staff.staff_record_detail, name="staff_record_detail"),
    path("hr/applications/<int:pk>/", staff.job_application_detail, name="job_application_detail"),
    path("contractors/", contractors.contractor_list, name="contractor_list"),
    path("contractors/<int:pk>/", contractors.contractor_detail, name="contractor_detail"),
    path("papers/", include("records.views.papers")),
]
