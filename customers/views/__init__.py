"""Function views of the customers app, one module per sub-domain; each module lists its own
``urlpatterns``, which ``customers.urls`` puts together."""
