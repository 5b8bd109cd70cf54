"""Swagger UI of every service, as a user's browser shows it: rendered by headless Chromium.

Each test starts a mock, has Chromium load its ``/ui/`` page with the JavaScript run
(``--dump-dom`` after a virtual-time budget: the DOM once the page went idle) and reads the
rendered page: Swagger UI's operation blocks (``.opblock``, whose summary carries the
method and a ``data-path``) and its info header. Without the JavaScript, or without the
spec, the page is an empty ``<div id="swagger-ui">`` and none of these exist.

Chromium's net log (``--log-net-log``) records every request the page made, so the tests also
show that the page fetched its spec from the mock and loaded nothing from anywhere else (the
UI's assets are the local swagger_ui_bundle package, not a CDN). Every other host is made
unresolvable, so Chromium's own background traffic cannot reach out or stall a run.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

from tools import program

from mockserver.server import LiveServer
from mockserver.services import service_ids

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Swagger UI 5's colours: the top bar, and the method badges of GET and POST operations
TOP_BAR = (0x1B, 0x1B, 0x1B)
GET_BLUE, POST_GREEN = (0x61, 0xAF, 0xFE), (0x49, 0xCC, 0x90)


# --- Chromium ---------------------------------------------------------------------------------
def chromium() -> str:
    return program("chromium", "apt-get install chromium (Debian)")


def run_chromium(url: str, tmp_path: Path, *args: str) -> tuple[str, list[Request]]:
    """Chromium's output for ``url`` with ``args`` (the rendered DOM with ``--dump-dom``) and the requests it made."""
    net_log = tmp_path / "net-log.json"
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
               # offline: only the mock's address resolves, whatever Chromium itself would fetch
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               f"--log-net-log={net_log}",
               # the DOM is taken once the page is idle (scripts run, spec fetched) and this much virtual time passed
               "--virtual-time-budget=10000",
               *args, url]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout, requests_in(net_log)


@dataclass(frozen=True)
class Request:
    initiator: str      # the origin of the page that asked, or "not an origin" (the address bar, Chromium itself)
    method: str
    url: str


def requests_in(net_log: Path) -> list[Request]:
    """Every URL request a Chromium net log records."""
    text = net_log.read_text()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:       # a log Chromium did not close: its event list is left open
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [Request(e["params"].get("initiator", ""), e["params"].get("method", ""), e["params"]["url"])
            for e in log["events"] if e["type"] == start and "url" in e.get("params", {})]


# --- the rendered DOM -------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def by_class(self, name: str) -> list[Element]:
        return [e for e in self.iter() if name in e.classes]

    def first(self, name: str) -> Element:
        found = self.by_class(name)
        assert found, f"no element of class {name!r} in the rendered page"
        return found[0]


class TreeBuilder(HTMLParser):
    """A serialized DOM (Chromium's, so well formed) back into a tree of elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#document", [], None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Element(tag, attrs, self.current))

    def handle_endtag(self, tag: str) -> None:
        open_ = self.current
        while open_.parent is not None and open_.tag != tag:
            open_ = open_.parent
        if open_.parent is not None:
            self.current = open_.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def operations_shown(page: Element) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation block on the page, as its summary line shows it."""
    shown = set()
    for block in page.by_class("opblock"):
        method = block.first("opblock-summary-method").text().strip()
        paths = [e.attrs["data-path"] for e in block.iter() if "data-path" in e.attrs]
        assert len(paths) == 1, f"an operation block with {len(paths)} paths: {paths}"
        assert f"opblock-{method.lower()}" in block.classes, (method, block.classes)
        shown.add((method, paths[0]))
    return shown


def operations_of(spec: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS}


@dataclass
class Rendered:
    page: Element
    requests: list[Request]
    spec: dict


def render_ui(ui_url: str, spec_url: str, tmp_path: Path) -> Rendered:
    """The Swagger UI page at ``ui_url`` as Chromium renders it, and the spec the mock serves at ``spec_url``."""
    spec = requests.get(spec_url, timeout=10).json()
    html, made = run_chromium(ui_url, tmp_path, "--dump-dom")
    return Rendered(parse(html), made, spec)


def assert_shows_spec(rendered: Rendered, ui_url: str, spec_url: str) -> None:
    """The page lists every operation of the spec under its title, loaded from the mock and nothing else."""
    page, spec = rendered.page, rendered.spec
    assert not page.by_class("errors-wrapper"), \
        f"Swagger UI reports errors: {' '.join(e.text() for e in page.by_class('errors-wrapper'))}"
    info = page.first("info")
    title = info.first("title")
    own_text = "".join(c for c in title.children if isinstance(c, str)).strip()   # the version badges are children
    assert own_text == spec["info"]["title"], title.text()
    assert title.first("version").text().strip() == spec["info"]["version"]
    if spec.get("servers"):      # the Servers menu offers the served spec's servers
        servers = [option.attrs.get("value") for option in page.first("servers").iter() if option.tag == "option"]
        assert servers == [server["url"] for server in spec["servers"]], servers

    wanted = operations_of(spec)
    shown = operations_shown(page)
    assert wanted, "the spec has no operations"
    assert not wanted - shown, f"operations of the spec the page does not list: {sorted(wanted - shown)}"
    assert not shown - wanted, f"operations the page lists that the spec has not: {sorted(shown - wanted)}"

    origin = "{0.scheme}://{0.netloc}".format(urlsplit(ui_url))
    page_made = [r for r in rendered.requests if r.initiator == origin]
    fetched = {r.url for r in page_made if r.method == "GET"}
    assert spec_url in fetched, f"the page did not fetch its spec {spec_url}; it fetched {sorted(fetched)}"
    assert f"{ui_url}swagger-ui-bundle.js" in fetched, sorted(fetched)
    elsewhere = [r.url for r in page_made if not r.url.startswith(origin + "/")]
    assert not elsewhere, f"the page loaded from other hosts than the mock: {elsewhere}"
    assert ui_url in {r.url for r in rendered.requests}, "Chromium never requested the page"


# --- tests ------------------------------------------------------------------------------------
@pytest.mark.parametrize("service_id", service_ids())
def test_swagger_ui_lists_every_operation(service_id: str, tmp_path: Path) -> None:
    chromium()
    with LiveServer(service_id) as server:
        ui_url, spec_url = f"{server.url}/ui/", f"{server.url}/openapi.json"
        rendered = render_ui(ui_url, spec_url, tmp_path)
    assert_shows_spec(rendered, ui_url, spec_url)


def test_control_api_ui_lists_its_operations(tmp_path: Path) -> None:
    chromium()
    with LiveServer("lco-thumbnails") as server:
        ui_url, spec_url = f"{server.root}/__skymock/ui/", f"{server.root}/__skymock/openapi.json"
        rendered = render_ui(ui_url, spec_url, tmp_path)
    assert_shows_spec(rendered, ui_url, spec_url)
    paths = {path for _, path in operations_shown(rendered.page)}
    assert {"/reset", "/clock", "/credentials", "/journal", "/faults"} <= paths, sorted(paths)


def test_screenshot_shows_the_operations(tmp_path: Path) -> None:
    chromium()
    shot = tmp_path / "ui.png"
    with LiveServer("nrao-ods") as server:
        run_chromium(f"{server.url}/ui/", tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    with Image.open(shot) as image:
        assert image.format == "PNG"
        assert image.size == (1280, 2000)
        pixels = image.convert("RGB")
    colours = pixels.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "the page is (nearly) blank"
    counts = {colour: count for count, colour in colours}
    # Swagger UI's dark top bar, across the whole width at the top of the page (above its logo and URL box)
    assert [pixels.getpixel((x, 2)) for x in range(0, 1280, 32)] == [TOP_BAR] * 40
    assert counts.get(TOP_BAR, 0) > 1280 * 20
    # nrao-ods lists one GET and three POST operations: their coloured method badges are drawn
    # (solid fills of about 4,500 and 14,000 pixels)
    assert counts.get(GET_BLUE, 0) > 2000, counts.get(GET_BLUE)
    assert counts.get(POST_GREEN, 0) > 3 * 2000, counts.get(POST_GREEN)
