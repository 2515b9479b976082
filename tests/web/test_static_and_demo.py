"""What Leadpulse serves itself: the tracker at /t.js and the demo shop at /demo/."""

from __future__ import annotations

import gzip

from starlette.testclient import TestClient

from leadpulse import demo
from leadpulse.pipeline import Pipeline


def test_the_tracker_is_served_gzipped_with_an_etag(client: TestClient) -> None:
    r = client.get("/t.js", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["content-encoding"] == "gzip"
    assert "leadpulse" in r.text  # httpx undoes the gzip
    etag = r.headers["etag"]
    assert client.get("/t.js", headers={"if-none-match": etag}).status_code == 304
    plain = client.get("/t.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(gzip.compress(plain.content)) < len(plain.content)


def test_the_demo_asks_to_be_set_up_then_carries_its_write_key(
    client: TestClient, pipeline: Pipeline
) -> None:
    before = client.get("/demo/")
    assert before.status_code == 404
    assert "leadpulse demo" in before.text
    site, created = demo.seed(pipeline)
    assert created
    page = client.get("/demo/")
    assert page.status_code == 200
    assert f'data-key="{site.write_key}"' in page.text
    assert "{{" not in page.text
    assert 'href="/demo/" aria-current="page"' in page.text
    pricing = client.get("/demo/pricing.html").text
    assert 'href="/demo/pricing.html" aria-current="page"' in pricing
    assert pricing.count('aria-current="page"') == 1
    assert "Leadpulse demo shop" in pricing  # the footer
    assert client.get("/demo/_nav.html").status_code == 404
    for name in ("credit.html", "pricing.html", "contact.html", "product.html", "demo.css"):
        assert client.get(f"/demo/{name}").status_code == 200, name
    assert client.get("/demo/../pyproject.toml").status_code == 404
    assert client.get("/demo/nothing.html").status_code == 404
    assert client.get("/demo", follow_redirects=False).headers["location"] == "/demo/"
    assert demo.seed(pipeline) == (site, False)
