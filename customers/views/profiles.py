"""profiles"""

urlpatterns: list = []
