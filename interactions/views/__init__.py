"""Function views of the interactions app, one module per sub-domain; each lists its urlpatterns."""
