"""The report pages (报表): the dashboard, one page per section, and the section exports.

Fixed paths under ``reports/`` (the scheduled reports' archive and subscriptions) come before
``reports/<key>/``, which would otherwise take them for a section key.
"""

from django.urls import path

from analytics import urls_reports, views

app_name = "analytics"

urlpatterns = [
    # Scheduled reports (analytics.urls_reports) go here, before the section pages.
    *urls_reports.urlpatterns,
    path("reports/", views.dashboard, name="dashboard"),
    path("reports/<slug:key>/", views.section_detail, name="section"),
    path("reports/<slug:key>/export/<slug:table>/", views.section_export, name="section-export"),
]
