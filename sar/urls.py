from django.urls import include, path

urlpatterns = [
    path("requests/", include("sar.views.requests")),
    path("requests/", include("sar.views.rights")),
    path("bundles/", include("sar.views.bundles")),
    path("portal/", include("sar.views.portal")),
]
