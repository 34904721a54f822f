from customers.views import detail, imports, lifecycle, listing, merge, profiles

app_name = "customers"

# Each module owns its URLs; fixed paths (imports/, reviews/, …) never clash with <int:pk>/.
urlpatterns = [
    *listing.urlpatterns,
    *imports.urlpatterns,
    *merge.urlpatterns,
    *lifecycle.urlpatterns,
    *profiles.urlpatterns,
    *detail.urlpatterns,
]
