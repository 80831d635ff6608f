"""The page people try the model with (GET / from a browser): real headless Chromium (Playwright's sync API,
Debian's /usr/bin/chromium, never a downloaded browser) against a real functions-framework server on loopback."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import os
import re
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from penguins.domain import ISLANDS, LIMITS, SEXES
from penguins.http import PAGE_FILE, page_headers
from tests.support.paths import ENV_VARS, ROOT
from tests.support.servers import Server
from tools.examples import ADELIE, SEED_EXAMPLES

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it with apt-get)"
)
# Without the background-networking flags Chromium phones home, which this closed network refuses.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1000, "height": 900}
DOCS_SCREENSHOT = ROOT / "docs" / "page.png"
UPDATE_DOCS = os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1"
FIELDS = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "island", "sex")
LABELS = {
    "bill_length_mm": "Bill length",
    "bill_depth_mm": "Bill depth",
    "flipper_length_mm": "Flipper length",
    "body_mass_g": "Body mass",
    "island": "Island",
    "sex": "Sex",
}
PENGUIN = {name: ADELIE[name] for name in FIELDS}  # what the prefilled form sends (year is not on the form)
CSP = dict(page_headers())["Content-Security-Policy"]
# Recorded before any of the page's own code runs; the CSP does not apply to scripts injected by the browser driver.
CSP_PROBE = (
    "window.cspViolations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real server for the module; the developer's own MODEL_URI etc. stay out, as in _isolated_env."""
    folder = tmp_path_factory.mktemp("page-server")
    with pytest.MonkeyPatch.context() as env:
        for name in ENV_VARS:
            env.delenv(name, raising=False)
        env.setenv("MODEL_CACHE_DIR", str(folder / "model-cache"))
        srv = Server({}, folder / "server.log")  # the process takes its environment now
    try:
        srv.wait_listening()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def explains(server) -> bool:
    """Whether the server answers `contributions` yet (asked once)."""
    status, _, body = server.post_json("/predict?explain=true", PENGUIN)
    return status == 200 and isinstance(body.get("contributions"), dict)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class Tab:
    """A fresh browser context and page, recording console errors, page errors and every URL it asks for."""

    def __init__(self, browser, server: Server):
        self.server = server
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.add_init_script(CSP_PROBE)
        self.urls: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.context.on("request", lambda request: self.urls.append(request.url))
        self.page: Page = self.context.new_page()
        self.page.on("console", lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def open(self, path: str = "/"):
        response = self.page.goto(self.server.url + path)
        assert response is not None and response.status == 200
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Which penguin is it?")
        return response

    def predict(self, trigger=None) -> dict | None:
        """Submit (or run `trigger`), wait for the answer or the error, and return the API's JSON answer."""
        with self.page.expect_response(lambda r: urlsplit(r.url).path.endswith("/predict")) as answer:
            (trigger or self.page.get_by_role("button", name="Predict the species").click)()
        expect(self.page.locator("#result")).to_have_attribute("aria-busy", "false")  # answered, or refused
        try:
            return answer.value.json()
        except Exception:  # a stubbed non-JSON answer
            return None

    def assert_clean(self) -> None:
        """No console error at all (which includes any CSP violation and any failed request)."""
        assert self.console_errors == []

    def close(self) -> None:
        violations = self.page.evaluate("window.cspViolations")
        self.context.close()
        assert violations == [], violations
        assert self.page_errors == []
        for url in self.urls:  # nothing leaves the machine: no CDN, font, analytics or browser chatter
            parts = urlsplit(url)
            assert parts.scheme == "data" or parts.hostname == "127.0.0.1", url


@pytest.fixture
def tab(browser, server):
    opened = Tab(browser, server)
    yield opened
    opened.close()


def number(text: str) -> float:
    return float(text.replace("\u2212", "-").replace("%", "").strip())


def shown_probabilities(page: Page) -> dict[str, float]:
    rows = page.locator("#probabilities li").all()
    return {row.locator(".name").inner_text().strip(): number(row.locator(".value").inner_text()) for row in rows}


def fill(page: Page, values: dict) -> None:
    for name, value in values.items():
        field = page.get_by_label(LABELS[name], exact=True)
        if name in ("island", "sex"):
            field.select_option(value)
        else:
            field.fill(str(value))


class _FormMarkup(HTMLParser):
    """The form's inputs, the options of each select, and the text of each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict] = {}
        self.options: dict[str, list[str]] = {}
        self.texts: dict[str, str] = {}
        self._select: str | None = None
        self._text_of: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "input" and "id" in attributes:
            self.inputs[attributes["id"]] = attributes
        elif tag == "select":
            self._select = attributes["id"]
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(attributes["value"])
        self._text_of = attributes.get("id")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._text_of and data.strip():
            self.texts[self._text_of] = data.strip()


def test_the_pages_fields_state_the_services_own_limits_and_choices():
    """The form is written out field by field: each one must say what the service enforces."""
    markup = _FormMarkup()
    markup.feed(Path(PAGE_FILE).read_text())
    for name, limit in LIMITS.items():
        field = markup.inputs[name]
        assert (float(field["min"]), float(field["max"])) == (limit.low, limit.high), name
        assert markup.texts[f"{name}-hint"] == f"{limit.low:g} to {limit.high:g} {limit.unit_name}"
    assert markup.options["island"] == list(ISLANDS)
    assert sorted(markup.options["sex"]) == sorted([*SEXES, "unknown"])  # "unknown": the field left out


def test_the_csp_allows_only_the_pages_own_script_and_style_by_hash():
    html = Path(PAGE_FILE).read_bytes()
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        blocks = re.findall(f"<{tag}>(.*?)</{tag}>".encode(), html, re.S)
        assert len(blocks) == html.count(f"<{tag}".encode()) >= 1  # no block the hashing regex would miss
        expected = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b).digest()).decode()}'" for b in blocks)
        assert directives[directive] == expected
    assert not re.search(rb"\son[a-z]+\s*=|javascript:", html), "inline handlers need 'unsafe-inline': none allowed"


def test_a_script_injected_into_the_page_does_not_run(tab):
    tab.open()
    ran = tab.page.evaluate(
        """() => new Promise((resolve) => {
            window.injected = false;
            document.addEventListener('securitypolicyviolation', () => resolve(window.injected), {once: true});
            const script = document.createElement('script');
            script.textContent = 'window.injected = true';
            document.body.appendChild(script);
        })"""
    )
    assert ran is False
    assert any(v.startswith("script-src") for v in tab.page.evaluate("window.cspViolations"))
    tab.page.evaluate("window.cspViolations = []")  # the one violation this test made on purpose


def test_the_page_loads_clean_under_its_csp_and_asks_nothing_outside_loopback(tab):
    response = tab.open()
    headers = response.all_headers()
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    html = response.text()
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", html), "no external resource"
    assert "<script src" not in html and "@import" not in html and "url(http" not in html
    page = tab.page
    assert page.title().startswith("Which penguin is it?")
    for name in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        assert page.get_by_label(LABELS[name], exact=True).input_value() == str(ADELIE[name])
    assert page.get_by_label("Island", exact=True).input_value() == "Torgersen"
    assert page.get_by_label("Sex", exact=True).input_value() == "male"
    expect(page.get_by_text("2500 to 7000 grams")).to_be_visible()  # the limits are shown
    for species in SEED_EXAMPLES:
        expect(page.get_by_role("button", name=species, exact=True)).to_be_visible()
    expect(page.locator("#answer")).to_be_hidden()
    tab.assert_clean()
    assert [urlsplit(url).path for url in tab.urls] == ["/"]  # the page is one request: nothing else to load


def test_the_prefilled_form_submitted_from_the_keyboard_answers_adelie_with_three_bars(tab):
    tab.open()
    page = tab.page
    with page.expect_request(lambda r: r.method == "POST") as sent:
        body = tab.predict(lambda: page.get_by_label("Bill length", exact=True).press("Enter"))
    request = sent.value
    assert urlsplit(request.url).path == "/predict" and urlsplit(request.url).query == "explain=true"
    assert request.headers["content-type"] == "application/json"
    assert request.post_data_json == PENGUIN  # numbers as JSON numbers, sex as chosen
    expect(page.locator("#species")).to_have_text("Adelie")
    shown = shown_probabilities(page)
    assert list(shown) == ["Adelie", "Chinstrap", "Gentoo"]
    assert sum(shown.values()) == pytest.approx(100, abs=0.05)
    assert shown == pytest.approx({name: 100 * p for name, p in body["probabilities"].items()}, abs=0.006)
    assert shown["Adelie"] > 99
    expect(page.locator("#model-version")).to_have_text(body["model_version"])
    expect(page.locator("#warnings")).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^The model says Adelie, 99\.\d\d % probability\.$"))

    page.get_by_label("Body mass", exact=True).fill("3800")  # an answer that no longer matches the form says so
    expect(page.locator("#stale")).to_be_visible()
    tab.predict(lambda: page.get_by_label("Body mass", exact=True).press("Enter"))
    expect(page.locator("#stale")).to_be_hidden()
    tab.assert_clean()


@pytest.mark.parametrize("species", list(SEED_EXAMPLES))
def test_each_example_button_fills_the_form_and_answers_its_species(tab, species):
    tab.open()
    page = tab.page
    body = tab.predict(page.get_by_role("button", name=species, exact=True).click)
    assert body["prediction"] == species
    expect(page.locator("#species")).to_have_text(species)
    example = SEED_EXAMPLES[species]
    assert float(page.get_by_label("Bill depth", exact=True).input_value()) == example["bill_depth_mm"]
    assert page.get_by_label("Island", exact=True).input_value() == example["island"]
    assert max(shown_probabilities(page), key=shown_probabilities(page).get) == species
    tab.assert_clean()


@pytest.mark.parametrize(
    "values, words",
    [
        ({"body_mass_g": "3.75"}, ["kilograms", "3750 grams"]),
        ({"bill_length_mm": ""}, ["bill_length_mm is required"]),
        ({"bill_length_mm": "3.91", "body_mass_g": "3.75"}, ["2 problems", "centimetres", "kilograms"]),
    ],
    ids=["kilograms", "empty", "two-fields"],
)
def test_a_refused_value_shows_the_services_sentence_and_marks_its_field(tab, values, words):
    tab.open()
    page = tab.page
    fill(page, values)  # typed into the inputs; the form is novalidate, so the service judges the values
    body = tab.predict()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(body["error"])
    for word in words:
        expect(alert).to_contain_text(word)
    for name in FIELDS:
        field = page.get_by_label(LABELS[name], exact=True)
        if name in values:
            expect(field).to_have_attribute("aria-invalid", "true")
            expect(page.locator(f"#{name}-note")).to_be_visible()
        else:
            expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(LABELS[next(iter(values))], exact=True)).to_be_focused()
    expect(page.locator("#answer")).to_be_hidden()
    text = page.locator("body").inner_text()
    assert "undefined" not in text and "Traceback" not in text and "[object" not in text
    assert all("422" in error for error in tab.console_errors)  # only Chromium's note of the 422 itself

    fill(page, {name: PENGUIN[name] for name in values})  # correcting a field clears its mark at once
    for name in values:
        expect(page.get_by_label(LABELS[name], exact=True)).not_to_have_attribute("aria-invalid", "true")
    tab.predict()
    expect(page.locator("#species")).to_have_text("Adelie")
    expect(alert).to_be_hidden()


def test_a_value_outside_the_training_range_is_answered_with_its_warning(tab, server):
    penguin = {**{name: SEED_EXAMPLES["Gentoo"][name] for name in FIELDS}, "flipper_length_mm": 239}
    _, _, expected = server.post_json("/predict", penguin)
    assert expected["warnings"], "the server should warn about flipper_length_mm = 239"
    tab.open()
    page = tab.page
    fill(page, penguin)
    body = tab.predict()
    assert body["warnings"] == expected["warnings"]
    expect(page.locator("#species")).to_have_text(body["prediction"])
    warnings = page.locator("#warnings")
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("caution")
    expect(warnings.locator("li")).to_have_text(expected["warnings"])
    assert "239" in warnings.inner_text()
    expect(page.locator("#flipper_length_mm-note")).to_have_text("Outside what the model was trained on")
    tab.assert_clean()


def test_a_network_failure_or_an_answer_that_is_not_json_gives_a_clear_message(tab):
    tab.open()
    page = tab.page

    def is_predict(url: str) -> bool:
        return urlsplit(url).path.endswith("/predict")

    page.route(is_predict, lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name="Predict the species").click()
    expect(page.get_by_role("alert")).to_contain_text("Could not reach the prediction service")

    page.unroute(is_predict)
    page.route(is_predict, lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>Bad</h1>"))
    tab.predict()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The service answered 502")
    assert "<h1>" not in alert.inner_text() and "undefined" not in alert.inner_text()
    expect(page.locator("#answer")).to_be_hidden()


def test_the_contributions_are_shown_and_add_up_to_each_species_score(tab, explains):
    if not explains:
        pytest.skip("the server does not answer `contributions` to POST /predict?explain=true yet")
    tab.open()
    page = tab.page
    body = tab.predict()
    section = page.locator("#contributions")
    expect(section).to_be_visible()
    for species in ("Adelie", "Gentoo"):  # the predicted one first, then another picked with its radio button
        if species != body["prediction"]:
            page.get_by_role("radio", name=species).check()
        expect(section.get_by_role("heading")).to_have_text(f"Why {species}?")
        terms = body["contributions"][species]
        rows = {
            row.get_attribute("data-term"): number(row.locator("td.num").inner_text())
            for row in section.locator("tbody tr").all()
        }
        assert set(rows) == {*terms, "margin"} == {"bias", *FIELDS, "margin"}
        assert {k: v for k, v in rows.items() if k != "margin"} == pytest.approx(terms, abs=0.006)
        assert sum(v for k, v in rows.items() if k != "margin") == pytest.approx(rows["margin"], abs=0.05)
        assert rows["margin"] == pytest.approx(sum(terms.values()), abs=0.006)
    # The scores line: softmax of the three shown scores gives the probabilities shown in the bars.
    scores = {
        name: number(value)
        for name, value in re.findall(r"(\w+) ([+\u2212]?\d+\.\d\d)", section.locator("#scores").inner_text())
    }
    exps = {name: math.exp(score) for name, score in scores.items()}
    softmax = {name: 100 * value / sum(exps.values()) for name, value in exps.items()}
    assert softmax == pytest.approx(shown_probabilities(page), abs=1.0)
    tab.assert_clean()


CONTRACT_ANSWER = {
    "prediction": "Adelie",
    "probabilities": {"Adelie": 0.99, "Chinstrap": 0.005, "Gentoo": 0.005},
    "warnings": [],
    "model_version": "b0160fbed309",
    "contributions": {
        "Adelie": {
            "bias": 0.3,
            "bill_length_mm": 2.1,
            "bill_depth_mm": 0.4,
            "flipper_length_mm": 1.2,
            "body_mass_g": -0.1,
            "sex": 0.05,
            "island": 0.8,
        },
        "Chinstrap": {
            "bias": -0.2,
            "bill_length_mm": -1.5,
            "bill_depth_mm": 0.1,
            "flipper_length_mm": -0.4,
            "body_mass_g": 0.2,
            "sex": 0.0,
            "island": -0.9,
        },
        "Gentoo": {
            "bias": -0.1,
            "bill_length_mm": 0.3,
            "bill_depth_mm": -1.7,
            "flipper_length_mm": -1.1,
            "body_mass_g": -0.2,
            "sex": 0.0,
            "island": -0.6,
        },
    },
}


@pytest.mark.parametrize("with_contributions", [True, False], ids=["contributions", "none"])
def test_the_page_renders_the_contracts_answer_with_or_without_contributions(tab, with_contributions):
    """The page against the documented answer shape, whatever the server's state (the answer is stubbed)."""
    answer = dict(CONTRACT_ANSWER)
    if not with_contributions:
        del answer["contributions"]  # the server before `explain` landed
    tab.open()
    page = tab.page
    page.route(
        lambda url: urlsplit(url).path.endswith("/predict"),
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(answer)),
    )
    tab.predict()
    expect(page.locator("#species")).to_have_text("Adelie")
    assert shown_probabilities(page) == {"Adelie": 99.0, "Chinstrap": 0.5, "Gentoo": 0.5}
    section = page.locator("#contributions")
    if not with_contributions:
        expect(section).to_be_hidden()
        tab.assert_clean()
        return
    expect(section).to_be_visible()
    rows = section.locator("tbody tr")
    # The starting point, then the features by the size of their push, then the score.
    expect(rows.locator("th")).to_contain_text(
        ["Starting point", "Bill length", "Flipper length", "Island", "Bill depth", "Body mass", "Sex", "Score"]
    )
    expect(rows.locator("td.num")).to_have_text(
        ["+0.30", "+2.10", "+1.20", "+0.80", "+0.40", "\u22120.10", "+0.05", "+4.75"]
    )
    expect(section.locator("tr[data-term=body_mass_g] .push")).to_have_class("push away")
    expect(section.locator("tr[data-term=bill_length_mm] .push")).to_have_class("push towards")
    expect(section.locator("tr[data-term=island] th small")).to_have_text("Torgersen")
    page.get_by_role("radio", name="Gentoo").check()
    expect(section.get_by_role("heading")).to_have_text("Why Gentoo?")
    expect(section.locator("tr[data-term=margin] td.num")).to_have_text("\u22123.40")
    tab.assert_clean()


@pytest.mark.parametrize("prefix", ["/penguin-species", "/penguin-species/"])
def test_the_page_works_under_a_path_prefix_with_or_without_its_trailing_slash(tab, server, prefix):
    """Deployed, the function's root is https://host/penguin-species: the page must call .../penguin-species/predict."""

    def forward(route):  # a stand-in for the platform's routing: strip the prefix, ask the real server
        parts = urlsplit(route.request.url)
        path = parts.path.removeprefix("/penguin-species") or "/"
        route.fulfill(response=route.fetch(url=server.url + path + (f"?{parts.query}" if parts.query else "")))

    tab.context.route(lambda url: urlsplit(url).path.startswith("/penguin-species"), forward)
    tab.open(prefix)
    page = tab.page
    with page.expect_request(lambda r: r.method == "POST") as sent:
        tab.predict()
    assert urlsplit(sent.value.url).path == "/penguin-species/predict"
    expect(page.locator("#species")).to_have_text("Adelie")
    href = page.get_by_role("link", name="health").get_attribute("href")
    assert urlsplit(href).path == "/penguin-species/health"
    tab.assert_clean()


def test_json_clients_still_get_json_from_the_root(server, tab):
    for accept in ("application/json", "*/*"):
        status, headers, body = server.request("GET", "/", headers={"Accept": accept})
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert body["service"] == "penguin-species" and "Content-Security-Policy" not in headers
    response = tab.open()  # and a browser, asking for text/html, the page
    assert response.request.all_headers()["accept"].startswith("text/html")
    assert response.all_headers()["content-security-policy"] == CSP


def test_a_screenshot_of_the_answered_form(tab, tmp_path):
    tab.open()
    page = tab.page
    tab.predict()
    expect(page.locator("#species")).to_have_text("Adelie")
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring in the picture
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.width >= 800 and image.height >= 600
    assert shot.stat().st_size > 20_000  # a page with text and bars, not a blank one
    tab.assert_clean()
    if UPDATE_DOCS:  # UPDATE_DOCS_SCREENSHOT=1 refreshes the README's picture; a normal run leaves the tree alone
        with Image.open(shot) as image:
            small = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            buffer = io.BytesIO()
            small.save(buffer, format="PNG", optimize=True)
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        DOCS_SCREENSHOT.write_bytes(buffer.getvalue())
    assert DOCS_SCREENSHOT.exists(), "run UPDATE_DOCS_SCREENSHOT=1 pytest tests/http/test_page.py -k screenshot"
    assert DOCS_SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 < DOCS_SCREENSHOT.stat().st_size < 200_000


# A spreadsheet: chosen or dropped, answered as a table, offered back as the answered CSV.
PACKAGE_CSV = Path(__import__("palmerpenguins").__file__).parent / "data" / "penguins.csv"


def csv_answer(server: Server, raw: bytes) -> str:
    """What the service itself answers for a CSV file (the download must be exactly this)."""
    request = urllib.request.Request(
        server.url + "/predict", data=raw, method="POST", headers={"Content-Type": "text/csv", "Accept": "text/csv"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def wait_for_sheet(tab: Tab, act) -> None:
    with tab.page.expect_response(lambda r: urlsplit(r.url).path.endswith("/predict")):
        act()
    expect(tab.page.locator("#sheet")).to_have_attribute("aria-busy", "false")


def test_a_chosen_csv_file_is_answered_as_a_table_and_downloads_answered(tab, server, tmp_path):
    tab.open()
    page = tab.page
    wait_for_sheet(tab, lambda: page.get_by_label("Choose a CSV file").set_input_files(str(PACKAGE_CSV)))
    expected = list(csv.DictReader(io.StringIO(csv_answer(server, PACKAGE_CSV.read_bytes()))))
    rows = page.locator("#sheet-rows tr")
    expect(rows).to_have_count(344)
    expect(page.locator("#sheet-summary")).to_contain_text("344 rows")
    expect(page.locator("#sheet-summary")).to_contain_text("2 rows could not be predicted")
    shown = page.locator("#sheet-rows tr").evaluate_all(
        "rows => rows.map(r => [r.className, ...[...r.cells].map(c => c.textContent)])"
    )
    for (cls, _, species, probability, warnings, error), answer in zip(shown, expected):
        assert species == answer["prediction"] and error == answer["error"]
        assert cls == ("row-error" if answer["error"] else "row-warn" if answer["warnings"] else "")
        if species:
            assert abs(number(probability) / 100 - float(answer[f"probability_{species}"])) < 1e-4
        assert warnings == answer["warnings"].replace(" | ", "\n")
    failed = page.locator("#sheet-rows tr.row-error")
    expect(failed).to_have_count(2)
    expect(failed.first.locator("td.error")).to_contain_text("bill_length_mm has no value")
    assert failed.first.evaluate("r => getComputedStyle(r.cells[0]).backgroundColor") != page.locator(
        "#sheet-rows tr:not(.row-error)"
    ).first.evaluate("r => getComputedStyle(r.cells[0]).backgroundColor")  # highlighted
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the answered CSV").click()
    assert download.value.suggested_filename == "penguins-answered.csv"
    saved = tmp_path / "answered.csv"
    download.value.save_as(saved)
    assert saved.read_text() == csv_answer(server, PACKAGE_CSV.read_bytes())
    tab.assert_clean()


def test_a_dropped_csv_file_is_answered(tab):
    tab.open()
    page = tab.page
    text = "id,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,island,sex\n" + "\n".join(
        f"{species},{e['bill_length_mm']},{e['bill_depth_mm']},{e['flipper_length_mm']},{e['body_mass_g']},"
        f"{e['island'].upper()},{e['sex'].upper()}"
        for species, e in SEED_EXAMPLES.items()
    )
    files = page.evaluate_handle(
        "text => { const dt = new DataTransfer(); dt.items.add(new File([text], 'seed.csv', {type: 'text/csv'}));"
        " return dt; }",
        text,
    )
    wait_for_sheet(tab, lambda: page.locator("#csv-drop").dispatch_event("drop", {"dataTransfer": files}))
    expect(page.locator("#sheet-rows td.species")).to_have_text(list(SEED_EXAMPLES))
    expect(page.locator("#sheet-rows tr.row-error")).to_have_count(0)
    expect(page.locator("#csv-download")).to_have_attribute("download", "seed-answered.csv")
    tab.assert_clean()


def test_a_file_the_service_refuses_shows_its_sentence(tab, tmp_path):
    tab.open()
    page = tab.page
    semicolons = tmp_path / "european.csv"
    semicolons.write_text(
        "bill_length_mm;bill_depth_mm;flipper_length_mm;body_mass_g;island\n39,1;18,7;181;3750;Dream\n"
    )
    wait_for_sheet(tab, lambda: page.get_by_label("Choose a CSV file").set_input_files(str(semicolons)))
    expect(page.locator("#sheet-error")).to_be_visible()
    expect(page.locator("#sheet-error")).to_contain_text("separated by semicolons")
    expect(page.locator("#sheet-answer")).to_be_hidden()
