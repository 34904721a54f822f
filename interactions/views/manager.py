"""manager views."""

urlpatterns: list = []
