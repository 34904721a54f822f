"""listing"""

urlpatterns: list = []
