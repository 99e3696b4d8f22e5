"""The search ratio benchmark's requests are varied and each one a valid search (no wrk run)."""

import pytest

from bench.search_ratio_benchmark import request_paths

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["suggest", "api", "page"])
def test_benchmark_requests_are_varied_and_answer_200(client, kind):
    paths = request_paths(kind, count=200)

    assert len(set(paths)) > 100
    for path in paths[:5]:
        assert client.get(path).status_code == 200
