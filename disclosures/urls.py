from django.urls import include, path

urlpatterns = [
    path("requests/", include("disclosures.views.requests")),
    path("register/", include("disclosures.views.register")),
    path("sharing/", include("disclosures.views.sharing")),
]
