from django.urls import path

from oauthserver import views

app_name = "oauth"
urlpatterns = [
    path("login/", views.OAuthLoginView.as_view(), name="login"),
    path("consent/<uuid:request_id>/", views.consent, name="consent"),
]
