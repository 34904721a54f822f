"""lifecycle"""

urlpatterns: list = []
