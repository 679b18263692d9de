from django.urls import path

from mcpbridge.views import local_artifact

urlpatterns = [
    path("artifacts/<str:token>", local_artifact, name="dataplane-local-artifact"),
]
