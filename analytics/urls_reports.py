"""The scheduled KPI reports' pages, included by ``analytics.urls`` before ``reports/<key>/`` (which
would otherwise take "archive" and "subscriptions" for section keys)."""

from django.urls import path

from analytics import views_reports as views

urlpatterns = [
    path("reports/archive/", views.report_archive, name="report-archive"),
    path("reports/archive/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/archive/<int:pk>/xlsx/", views.report_xlsx, name="report-xlsx"),
    path("reports/subscriptions/", views.report_subscriptions, name="report-subscriptions"),
    path(
        "reports/subscriptions/<int:pk>/delete/",
        views.report_subscription_delete,
        name="report-subscription-delete",
    ),
    path("reports/build/", views.report_build, name="report-build"),
]
