"""Retake the README's screenshots (docs/screenshots/demo-*.png) from a running demo.

Start the demo (`make run`), wait about three minutes for every stream to turn `ok` and the
data to arrive, then:

    .venv/bin/python scripts/readme_screenshots.py [--url http://127.0.0.1:8000] [--out docs/screenshots]

It logs in as the demo's account manager in headless Chromium (Debian's package, as the
browser tests use; CHROMIUM_PATH overrides) and writes the admin index, the connection list,
the health page, interval volumes and agent state events. Exit status 0 when all are written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

LOGIN = "manager@demo.example"
PASSWORD = "switchboard-demo"  # the demo's (setup_demo), never a real one
# (file, path, full page): what the README shows, in its order.
SHOTS = (
    ("demo-admin-index.png", "/admin/", False),
    ("demo-connections.png", "/admin/integrations/vendorconnection/", False),
    ("demo-health.png", "/health/", True),
    ("demo-intervals.png", "/admin/collectors/intervalvolume/", False),
    ("demo-agent-states.png", "/admin/collectors/agentstateevent/", False),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running demo")
    parser.add_argument("--out", default="docs/screenshots", help="folder to write the PNG files to")
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no Chromium found: apt-get install -y chromium (or set CHROMIUM_PATH)", file=sys.stderr)
        return 2
    from playwright.sync_api import ViewportSize, sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = args.url.rstrip("/")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_context(viewport=ViewportSize(width=1400, height=1000)).new_page()
        # Log in through the form, so the login banner shows as a manager sees it.
        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", LOGIN)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        for name, path, full in SHOTS:
            if path != "/admin/":
                page.goto(base + path)
            page.screenshot(path=str(out / name), full_page=full)
            print(out / name)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
