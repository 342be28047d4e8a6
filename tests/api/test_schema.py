"""The OpenAPI schema validates, and every endpoint in it is exercised by the tenancy matrix."""

from __future__ import annotations

import pytest
import yaml
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from tests.api.endpoints import ENDPOINTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema():
    GENERATOR_STATS.reset()
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return generated


def test_the_schema_validates_with_no_warning_or_error(schema):
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache


def test_every_path_in_the_schema_is_one_the_tenancy_matrix_exercises(schema):
    exercised = {e.list_path for e in ENDPOINTS} | {e.detail_pattern for e in ENDPOINTS}
    assert set(schema["paths"]) == exercised
    # Every operation is a read.
    assert {method for ops in schema["paths"].values() for method in ops} == {"get"}


def test_every_operation_needs_a_key_and_the_bulk_ones_offer_csv(schema):
    for path, ops in schema["paths"].items():
        assert ops["get"]["security"] == [{"apiKey": []}], path
    for endpoint in ENDPOINTS:
        content = schema["paths"][endpoint.list_path]["get"]["responses"]["200"]["content"]
        assert ("text/csv" in content) == endpoint.csv


def test_the_schema_is_served_without_a_key(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served["info"]["title"] == "Switchboard read API"
    assert "/api/v1/intervals/" in served["paths"]


def test_the_reference_page_loads_its_scripts_from_this_site_not_a_cdn(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
