from django.urls import include, path

from tmo.admin import site

urlpatterns = [
    path("", include("records.urls")),
    path("access/", include("access.urls")),
    path("disclosures/", include("disclosures.urls")),
    path("rights/", include("sar.urls")),
    path("admin/", site.urls),
]
