from django.urls import include, path

from access.views import auth

urlpatterns = [
    path("sign-in/", auth.SignInView.as_view(), name="login"),
    path("sign-in/code/", auth.two_factor_verify, name="two_factor_verify"),
    path("sign-in/set-up/", auth.two_factor_setup, name="two_factor_setup"),
    path(
        "sign-in/recovery-codes/", auth.two_factor_recovery_codes, name="two_factor_recovery_codes"
    ),
    path("sign-out/", auth.SignOutView.as_view(), name="logout"),
    path("data-map/", auth.data_map, name="data_map"),
    path("account/", include("access.views.accounts")),
    path("compliance/", include("access.views.compliance")),
    path("emergency/", include("access.views.emergency")),
    # The public inventory ("privacy/") and the generated code ("compliance/code/...").
    path("", include("access.views.published")),
    path("breaches/", include("access.views.breaches")),
    path("impact-assessments/", include("access.views.dpia")),
    path("committee/", include("access.views.grants")),
    path("meetings/", include("access.views.meetings")),
    path("retention/", include("access.views.retention")),
    path("audit/", include("access.views.audit")),
]
