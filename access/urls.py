from django.urls import path

from access import views

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("data-map/", views.data_map, name="data_map"),
]
