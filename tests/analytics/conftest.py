import pytest


@pytest.fixture
def english(settings):
    """Pages and messages in English, for tests that read their wording."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
