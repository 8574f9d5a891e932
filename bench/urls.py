"""The site's URLs plus the benchmark's baseline pages; ROOT_URLCONF only in tmo.settings.bench."""

from django.urls import path

from bench import views
from tmo.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("bench/people/", views.search_unscoped, name="bench_search_unscoped"),
    path("bench/people/<int:pk>/", views.person_plain, name="bench_person_plain"),
    path("bench/people/<int:pk>/unguarded/", views.person_unguarded, name="bench_person_unguarded"),
    path("bench/bare/", views.bare, name="bench_bare"),
    *site_urlpatterns,
]
