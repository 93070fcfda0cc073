"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a
running server and worker loaded with the original files: both charts draw the reports' data, and a
screenshot is saved under pytest's tmp dir (UPDATE_SCREENSHOTS=1 also refreshes Documentation/dashboard.png)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from config import PROJECT_DIR
from tests.conftest import unavailable
from tests.e2e.test_http_service import REPORT_2

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
README_SCREENSHOT = PROJECT_DIR / "Documentation" / "dashboard.png"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.is_file():
        unavailable("Chromium", f"{CHROMIUM} is missing: apt-get install chromium chromium-driver")
    if not (PROJECT_DIR / "api" / "static" / "vendor" / "chart.umd.min.js").is_file():
        unavailable("Chart.js", "api/static/vendor is empty: run make install (needs npm)")
    from playwright.sync_api import Error, sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": 1400, "height": 1000})
        except Error as error:
            unavailable("Chromium", str(error).splitlines()[0])
        yield context
        context.close()


@pytest.fixture(scope="module")
def loaded_service(live_service):
    """The module's service with the original files loaded through POST /upload-files."""
    task = requests.post(live_service.url("/upload-files"), timeout=10).json()
    assert live_service.wait_for_task(task["task_id"])["state"] == "SUCCESS"
    return live_service


@pytest.mark.parametrize("live_service", ["embedded"], indirect=True)
def test_dashboard_draws_both_reports_and_the_tasks(browser, loaded_service, tmp_path):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(loaded_service.url("/dashboard"))
    page.wait_for_selector("body[data-reports-year='2021']", timeout=20_000)
    page.wait_for_selector("#tasks-table tbody tr td.state-SUCCESS", timeout=20_000)

    above = page.evaluate("""() => {
        const data = Chart.getChart('above-chart').data;
        return {labels: data.labels, hired: data.datasets[0].data, mean: data.datasets[1].data,
                types: data.datasets.map(d => d.type)};
    }""")
    assert list(zip(above["labels"], above["hired"])) == REPORT_2
    assert above["types"] == ["bar", "line"]
    assert above["mean"] == [round(1643 / 12, 2)] * 7  # 2021's hires over the 12 departments
    # The axis starts below the mean and the lowest bar, not at 0, so that their differences show.
    axis = page.evaluate("() => { const y = Chart.getChart('above-chart').scales.y; return [y.min, y.max]; }")
    assert 0 < axis[0] < min(above["mean"][0], *above["hired"]) and axis[1] >= max(above["hired"])

    quarters = page.evaluate("""() => {
        const data = Chart.getChart('quarters-chart').data;
        return {labels: data.labels, series: data.datasets.map(d => [d.label, d.data])};
    }""")
    assert [label for label, _ in quarters["series"]] == ["Q1", "Q2", "Q3", "Q4"]
    assert len(quarters["labels"]) == 12 and quarters["labels"] == sorted(quarters["labels"], key=str.casefold)
    assert sum(sum(counts) for _, counts in quarters["series"]) == 1643
    assert page.locator("#quarters-table tbody tr").count() == 933

    page.locator("#department-filter").select_option("Support")
    assert 0 < page.locator("#quarters-table tbody tr").count() < 933
    rejected = page.locator("#tasks-table tbody tr").first.locator("td").nth(5).inner_text()
    assert rejected == "70"
    assert errors == []

    page.screenshot(path=tmp_path / "dashboard.png", full_page=False)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # the README's picture, refreshed on request only
        shutil.copyfile(tmp_path / "dashboard.png", README_SCREENSHOT)

    page.locator("#year").select_option("2020")
    page.wait_for_selector("body[data-reports-year='2020']", timeout=20_000)
    # Back to 2021: both reports are asked with the ETags of the answers kept, the server says 304, and the
    # page draws them from what it kept.
    before = page.evaluate("() => window.dashboard.notModified")
    page.locator("#year").select_option("2021")
    page.wait_for_selector("body[data-reports-year='2021']", timeout=20_000)
    assert page.evaluate("() => window.dashboard.notModified") >= before + 2
    assert page.evaluate("() => Chart.getChart('above-chart').data.labels") == [d for d, _ in REPORT_2]
    assert errors == []
    page.close()


@pytest.mark.parametrize("live_service", ["embedded"], indirect=True)
def test_docs_page_shows_every_operation_offline(browser, loaded_service):
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(loaded_service.url("/docs"))
    page.wait_for_selector(".opblock-summary", timeout=20_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "nodes => nodes.map(n => n.dataset.path)")
    assert {"/batch/{table}", "/backup/{table}", "/restore/{table}", "/backups", "/dashboard"} <= set(paths)
    assert all(url.startswith(loaded_service.base_url) or url.startswith("data:") for url in requested), requested
    page.close()


@pytest.mark.parametrize("live_service", ["embedded"], indirect=True)
def test_a_spreadsheet_file_loads_and_a_load_s_rejected_rows_download_and_replay_from_the_page(
        browser, loaded_service):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(loaded_service.url("/dashboard"))
    page.wait_for_selector("#tasks-table tbody tr td.state-SUCCESS", timeout=20_000)
    newest_is = """([kind, state]) => { const row = document.querySelector('#tasks-table tbody tr');
        return row !== null && row.cells[1].textContent === kind && row.cells[2].textContent === state; }"""

    # A Windows spreadsheet's export: `;` between fields, Windows-1252, the columns named in another order.
    page.select_option("#upload-table", "departments")
    page.set_input_files("#upload-file", files=[{"name": "Departamentos.csv", "mimeType": "text/csv",
                                                 "buffer": "department;id\r\nLogística;77\r\n".encode("cp1252")}])
    page.select_option("#upload-delimiter", ";")
    page.fill("#upload-encoding", "cp1252")
    page.click("#upload-form button[type=submit]")
    page.wait_for_function(newest_is, arg=["load departments", "SUCCESS"], timeout=30_000)
    departments = requests.get(loaded_service.url("/departments?limit=1000"), timeout=10).json()["items"]
    assert {"id": 77, "department": "Logística"} in departments

    # The original load's rejected rows: listed with their reasons, downloaded as CSV, replayed.
    page.locator("#tasks-table tbody tr", has_text="load all").locator("button.show-rejections").click()
    page.wait_for_selector("#rejections-card[data-rows='70']", timeout=20_000)
    assert page.locator("#rejections-table").input_value() == "hired_employees"
    assert "is missing" in page.locator("#rejections-rows tbody tr").first.inner_text()
    with page.expect_download() as download:
        page.click("#rejections-download")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "id,name,datetime,department_id,job_id,line_number,reasons,rejection_id"
    assert len(lines) == 1 + 70
    page.click("#rejections-replay")
    page.wait_for_function(newest_is, arg=["replay hired_employees", "SUCCESS"], timeout=30_000)
    # The rows missing a field cannot pass by themselves: all 70 still fail, and stay listed.
    assert page.locator("#tasks-table tbody tr").first.locator("td").nth(5).inner_text() == "70"
    assert errors == []
    page.close()
