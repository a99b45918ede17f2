"""Lists are pages, `?page=N&page_size=M` (at most 100) answering `{count, next, previous,
results}`; a page and its count are one query (`core.api.pagination.CountingPaginator`)."""

import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.test.utils import CaptureQueriesContext

from core.api.pagination import CountingPaginator, IndexOrderedCountingPaginator
from doctors.models import Specialization
from tests.api.envelope import envelope

pytestmark = pytest.mark.django_db

SPECIALIZATIONS_URL = "/api/v1/specializations/"


@pytest.fixture
def many_specializations(db):
    Specialization.objects.bulk_create(
        Specialization(name=f"Specialization {n:03d}") for n in range(130)
    )


def test_lists_are_paginated_with_count_next_previous_results(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 130
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert "page=2" in body["next"]

    second = anon_client.get(body["next"]).json()
    assert second["results"][0]["name"] == "Specialization 020"
    assert second["previous"] is not None


def test_page_size_is_capped_at_100(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL, {"page_size": 1000}).json()
    assert body["count"] == 130
    assert len(body["results"]) == 100
    last = anon_client.get(SPECIALIZATIONS_URL, {"page_size": 1000, "page": 2}).json()
    assert len(last["results"]) == 30
    assert last["next"] is None


def test_a_smaller_page_size_is_honoured(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL, {"page_size": 7}).json()
    assert len(body["results"]) == 7


@pytest.mark.parametrize("page", ["999", "0", "last-but-one", str(2**63)])
def test_a_page_beyond_the_end_or_invalid_is_404(anon_client, many_specializations, page):
    response = anon_client.get(SPECIALIZATIONS_URL, {"page": page})
    errors = envelope(response, 404, "client_error")
    assert errors[0]["code"] == "not_found"


def test_the_last_page_by_name(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL, {"page": "last"}).json()
    assert body["count"] == 130
    assert [row["name"] for row in body["results"]][-1] == "Specialization 129"
    assert len(body["results"]) == 10
    assert body["next"] is None


def test_a_page_and_the_count_are_read_in_one_query(many_specializations):
    specializations = Specialization.objects.order_by("name")
    with CaptureQueriesContext(connection) as queries:
        page = CountingPaginator(specializations, 20).page(7)
    assert len(queries) == 1
    # The count is taken in a subquery and the page is cut outside it, so that PostgreSQL
    # plans the count over all matching rows (core.api.pagination.CountingPaginator.page).
    sql = queries[0]["sql"]
    subquery, outside = sql.rsplit(")", 1)
    assert sql.startswith("SELECT * FROM (")
    assert "COUNT(*) OVER ()" in subquery
    assert "LIMIT" in outside
    assert "LIMIT" not in subquery
    assert page.paginator.count == 130
    assert page.paginator.num_pages == 7
    assert [s.name for s in page] == [f"Specialization {n}" for n in range(120, 130)]
    assert not hasattr(page[0], CountingPaginator.TOTAL)

    rows = CountingPaginator(specializations.values("name"), 100).page(1)
    assert rows.paginator.count == 130
    assert set(rows[0]) == {"name"}


def test_a_list_one_index_orders_counts_without_a_subquery(many_specializations):
    with CaptureQueriesContext(connection) as queries:
        page = IndexOrderedCountingPaginator(Specialization.objects.order_by("name"), 20).page(2)
    (query,) = queries
    assert not query["sql"].startswith("SELECT * FROM (")
    assert "COUNT(*) OVER ()" in query["sql"]
    assert page.paginator.count == 130
    assert page[0].name == "Specialization 020"


@pytest.mark.parametrize("page", [8, 2])
def test_an_empty_page_is_counted_to_tell_past_the_end_from_an_empty_list(db, page):
    with pytest.raises(EmptyPage):
        CountingPaginator(Specialization.objects.order_by("name"), 20).page(page)
    empty = CountingPaginator(Specialization.objects.order_by("name"), 20).page(1)
    assert empty.paginator.count == 0
    assert list(empty) == []


def test_a_list_filtered_on_a_window_is_counted_apart(many_specializations):
    # The page's COUNT(*) OVER () would count the rows before that filter drops some.
    ranked = Specialization.objects.annotate(
        rank=Window(RowNumber(), order_by=F("name").asc())
    ).filter(rank__lte=45)
    page = CountingPaginator(ranked.order_by("name"), 20).page(1)
    assert page.paginator.count == 45


def test_a_distinct_list_is_counted_apart(many_specializations):
    # COUNT(*) OVER () would count the rows before DISTINCT removes the repeated ones.
    names = Specialization.objects.values("name")
    repeated = names.union(names, all=True).order_by("name")
    names = names.order_by("name").distinct()
    assert CountingPaginator(names, 20).page(1).paginator.count == 130
    assert CountingPaginator(repeated, 20).page(1).paginator.count == 260
