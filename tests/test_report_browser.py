"""The report as a browser shows it: headless Debian Chromium renders index.html and loads every image."""

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from test_report import write_fake_reports

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH or at /usr/bin/chromium; "
                                "install the Debian package (apt-get install -y chromium) to run the browser check")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# After the load event: mark images that did not decode, and count them on <body>.
IMAGE_CHECK = """<script>
window.addEventListener("load", () => {
  const broken = [...document.images].filter(image => !image.complete || image.naturalWidth === 0);
  broken.forEach(image => image.setAttribute("data-broken", "1"));
  document.body.setAttribute("data-images-checked", String(document.images.length));
  document.body.setAttribute("data-images-broken", String(broken.length));
});
</script>"""


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.body = [], {}

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "body":
            self.body = dict(attrs)


def _chromium(tmp_path: Path, *arguments: str) -> str:
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *arguments],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _loaded_images(tmp_path: Path, index: Path, replace: tuple[str, str] = ("", "")) -> _Images:
    """Images of ``index`` (with an optional text substitution) after Chromium loaded the page."""
    check = index.with_name("image-check.html")  # beside index.html, so that its relative links resolve
    check.write_text(index.read_text().replace(*replace).replace("</body>", IMAGE_CHECK + "</body>"))
    try:
        page = _Images()
        page.feed(_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", check.as_uri()))
    finally:
        check.unlink()
    return page


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """The report of a real run when ``XREC_REPORT_UNDER_TEST`` names its reports folder, else a fake one."""
    built = os.environ.get("XREC_REPORT_UNDER_TEST")
    if built:
        return Path(built) / "index.html"
    return write_fake_reports(tmp_path_factory.mktemp("reports"))


def test_screenshot_shows_a_rendered_page(index, tmp_path):
    screenshot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={screenshot}", "--window-size=1280,2000", index.as_uri())
    with Image.open(screenshot) as image:
        assert image.size == (1280, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text, tables, badges and a figure, not a blank page
    assert screenshot.stat().st_size > 50_000


def test_every_image_loads(index, tmp_path):
    page = _loaded_images(tmp_path, index)
    assert page.body.get("data-images-checked") == str(len(page.images)) and len(page.images) >= 2
    assert page.body.get("data-images-broken") == "0"
    assert not [image["src"] for image in page.images if "data-broken" in image]


def test_a_missing_image_is_caught(index, tmp_path):
    page = _loaded_images(tmp_path, index, ("figures/loss_curves.png", "figures/absent.png"))
    assert page.body.get("data-images-broken") == "1"
    assert [image["src"] for image in page.images if "data-broken" in image] == [
        "01_siamese_gcn/figures/absent.png"]
