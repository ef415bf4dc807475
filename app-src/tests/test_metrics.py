"""The /metrics contract (names, labels, counting), in-process with the default registry.

/metrics is served by the admin app (ADMIN_PORT); the request metrics count the
public app's requests only.
"""

from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app import metrics
from conftest import FULL_ENV

GOLDEN = Path(__file__).with_name("metrics.golden")


def count(method, route, status):
    value = REGISTRY.get_sample_value(
        "app_http_requests_total", {"method": method, "route": route, "status": str(status)}
    )
    return value or 0.0


def duration_count(method, route, status):
    value = REGISTRY.get_sample_value(
        "app_http_request_duration_seconds_count",
        {"method": method, "route": route, "status": str(status)},
    )
    return value or 0.0


def scrape(admin):
    """The admin app's /metrics text (pass AppUnderTest.admin)."""
    resp = admin.get("/metrics")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def samples(text):
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_default_registry_is_used_without_multiproc_dir():
    assert metrics.MULTIPROCESS is False


def test_metrics_content_type(full):
    resp = full.admin.get("/metrics")
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"


@pytest.mark.parametrize("n", [1, 7])
def test_request_counter_increases_by_exactly_n(full, n):
    before = count("GET", "/", 200)
    before_hist = duration_count("GET", "/", 200)
    for _ in range(n):
        full.client.get("/")
    assert count("GET", "/", 200) - before == n
    assert duration_count("GET", "/", 200) - before_hist == n


def test_status_label_follows_the_response(make_app):
    a = make_app({})  # nothing configured: /readyz answers 503
    before = count("GET", "/readyz", 503)
    a.client.get("/readyz")
    assert count("GET", "/readyz", 503) - before == 1


def test_route_label_is_the_rule_not_the_path(full):
    before = count("GET", "/config", 200)
    full.client.get("/config?user=alice")
    assert count("GET", "/config", 200) - before == 1
    assert "alice" not in scrape(full.admin)


def test_unmatched_paths_share_one_route_label(full):
    before = count("GET", "<unmatched>", 404)
    paths = [f"/scan/{i}/wp-admin.php" for i in range(25)]
    for path in paths:
        assert full.client.get(path).status_code == 404
    assert count("GET", "<unmatched>", 404) - before == len(paths)
    text = scrape(full.admin)
    assert "/scan/" not in text
    assert "wp-admin" not in text


def test_wrong_method_is_unmatched_with_status_405(full):
    before = count("DELETE", "<unmatched>", 405)
    full.client.delete("/config")
    assert count("DELETE", "<unmatched>", 405) - before == 1


def test_nonstandard_methods_are_labelled_other(full):
    before = count("other", "<unmatched>", 405)
    full.client.open("/", method="BREW")
    full.client.open("/", method="PROPFIND")
    assert count("other", "<unmatched>", 405) - before == 2
    text = scrape(full.admin)
    assert "BREW" not in text and "PROPFIND" not in text


def test_admin_requests_are_not_counted(full):
    """Scrapes and probes on the admin port would otherwise dominate the request metrics."""
    before = {(m, r, s): count(m, r, s) for m, r, s in
              [("GET", "/healthz", 200), ("GET", "/readyz", 200), ("GET", "<unmatched>", 404),
               ("POST", "<unmatched>", 405)]}
    for path in ("/metrics", "/healthz", "/readyz", "/nope"):
        full.admin.get(path)
    full.admin.post("/metrics")
    assert {key: count(*key) for key in before} == before
    assert count("GET", "/metrics", 200) == 0
    assert 'route="/metrics"' not in scrape(full.admin)


def test_public_probes_are_counted(full):
    before = count("GET", "/healthz", 200)
    full.client.get("/healthz")
    assert count("GET", "/healthz", 200) - before == 1


def test_metrics_and_static_paths_on_the_public_port_are_unmatched(full):
    before = count("GET", "<unmatched>", 404)
    full.client.get("/metrics")
    full.client.get("/static/app.css")
    assert count("GET", "<unmatched>", 404) - before == 2
    text = scrape(full.admin)
    assert 'route="/static' not in text and 'route="/metrics"' not in text


def test_histogram_has_the_declared_buckets(full):
    full.client.get("/healthz")
    buckets = sorted(
        float(s.labels["le"])
        for s in samples(scrape(full.admin))
        if s.name == "app_http_request_duration_seconds_bucket"
        and s.labels["route"] == "/healthz"
        and s.labels["status"] == "200"
    )
    assert buckets == sorted(list(metrics.DURATION_BUCKETS) + [float("inf")])


def test_labels_are_exactly_method_route_status(full):
    full.client.get("/")
    for s in samples(scrape(full.admin)):
        if s.name in ("app_http_requests_total", "app_http_request_duration_seconds_count"):
            assert set(s.labels) == {"method", "route", "status"}


def test_app_info_carries_the_version(make_app):
    a = make_app(dict(FULL_ENV, APP_VERSION="1.2.3-test"))
    assert REGISTRY.get_sample_value("app_info", {"version": "1.2.3-test"}) == 1.0
    assert 'app_info{version="1.2.3-test"} 1.0' in scrape(a.admin)


def test_app_version_defaults_to_dev(make_app):
    make_app({})
    assert REGISTRY.get_sample_value("app_info", {"version": "dev"}) == 1.0


def test_exposed_app_metric_names_match_the_golden_file(full):
    """The default registry adds *_created series and process/python collectors that the
    production (multiprocess) exposition does not have; test_gunicorn checks that one
    exactly. Here: the app's own names, minus _created, equal the golden list."""
    full.client.get("/")
    names = {
        s.name
        for s in samples(scrape(full.admin))
        if s.name.startswith("app_") and not s.name.endswith("_created")
    }
    golden = GOLDEN.read_text().split()
    assert golden == sorted(golden), "metrics.golden must stay sorted"
    assert sorted(names) == golden
