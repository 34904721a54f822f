"""workbench views."""

urlpatterns: list = []
