"""The CSP in a real browser: the pages and the API docs work with nothing blocked."""

import pytest
from playwright.sync_api import expect

from tests.factories import EventPostFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Chromium reports each blocked script, style, image or request in the console.
VIOLATION = "Content Security Policy"


def watch_for_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if VIOLATION in message.text else None,
    )
    return violations


def test_api_docs_render_swagger_ui_under_the_policy(live_server, page):
    violations = watch_for_violations(page)
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("E-Ren API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.snap("docs")
    assert violations == []


def test_search_page_script_runs_under_the_policy(live_server, page):
    EventPostFactory(title="Chess night")
    violations = watch_for_violations(page)
    page.goto(f"{live_server.url}/search/?q=chess")
    expect(page.get_by_role("heading", name="Chess night").first).to_be_visible()
    with page.expect_response(lambda response: "/search/suggest" in response.url) as suggest:
        page.locator("#q").fill("che")
    assert suggest.value.status == 200
    page.snap("search")
    assert violations == []
