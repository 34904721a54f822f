"""merge"""

urlpatterns: list = []
