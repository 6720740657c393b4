"""Every console page, checked for what keyboard and screen-reader users rely on."""

from __future__ import annotations

import pytest

from tests.console.conftest import Console
from tests.console.test_api_keys import make_key
from tests.factories import Factory

pytestmark = pytest.mark.e2e

PAGES = (
    "credentials",
    "credentials/new",
    "api-keys",
    "api-keys/new",
    "audit",
    "dormant?days=1",
    "users",
    "permissions",
    "policy",
    "settings",
    "settings/keys/new",
)

# Problems found on the page: unlabelled controls, nameless buttons or links, dialogs without
# a title, duplicate ids (which break label and aria references).
PROBLEMS = """() => {
  const found = [];
  const named = (e) => (e.getAttribute("aria-label") || e.textContent || "").trim() !== "";
  for (const c of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!c.labels || c.labels.length === 0) found.push(`unlabelled ${c.tagName} ${c.name}`);
  }
  for (const b of document.querySelectorAll("button, a[href], summary")) {
    if (!named(b)) found.push(`nameless ${b.tagName} ${b.outerHTML.slice(0, 80)}`);
  }
  for (const d of document.querySelectorAll("dialog")) {
    const title = document.getElementById(d.getAttribute("aria-labelledby") || "");
    if (!title || !title.textContent.trim()) found.push(`untitled dialog ${d.id}`);
  }
  const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
  const twice = new Set(ids.filter((id, i) => ids.indexOf(id) !== i));
  for (const id of twice) found.push(`dup id ${id}`);
  if (!document.querySelector("main h1")) found.push("no h1 in main");
  if (document.documentElement.lang !== "en") found.push("no lang");
  return found;
}"""


def test_every_page_labels_its_controls_and_titles_its_dialogs(
    console: Console, factory: Factory
) -> None:
    page = console.page
    factory.client(console.tenant, name="Billing sync")
    make_key(factory, console.tenant, "Kiosk")
    console.sign_in_as_admin(factory)
    make_key(factory, console.tenant, "Ada's laptop", owner=console.admin)
    for path in PAGES:
        page.goto(console.tenant_url(f"{path}"))
        assert page.evaluate(PROBLEMS) == [], path


def test_the_sign_in_and_link_pages_too(console: Console) -> None:
    for path in ("/console/sign-in", "/console/link", f"/console/{console.tenant}/nowhere"):
        if path.endswith("nowhere"):
            console.expect_error("404")
        console.page.goto(console.url(path))
        assert console.page.evaluate(PROBLEMS) == [], path
