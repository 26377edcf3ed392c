"""Issue 14, point 4, in Chromium: a bank keeper uploads a Moodle XML file in the admin, reads the
preview (every item, imported or refused and why), imports the items that passed, and finds them
in the bank. In Redis mode a real Celery worker checks and imports the file; the page follows.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from exams.models import Item, Topic, Upload
from tests.e2e.axe import axe_violations
from tests.exams.test_interchange_import import BOARD
from tests.factories import UserFactory, grant
from tests.servers import running_daphne

from .conftest import sign_in


@pytest.fixture
def daphne(request, transactional_db):
    # A worker of this test's own: it must see the test's media folder, where the upload lands.
    with running_daphne(request) as server:
        yield server


def test_a_keeper_uploads_a_moodle_file_reads_the_preview_and_imports(
    daphne, new_context, screenshot
):
    Topic.objects.create(code="surgery", name="Surgery")
    keeper = UserFactory(username="keeper", is_staff=True)
    grant(keeper, "exams", "add_item", "change_item", "view_item")
    page = new_context().new_page()
    sign_in(page, daphne.url, "keeper")

    page.goto(f"{daphne.url}/admin/exams/item/")
    page.get_by_role("link", name="Import items").click()
    page.get_by_label("Item file").set_input_files(str(BOARD))
    page.get_by_role("button", name="Check the file").click()

    # The check runs in the background; the page refreshes itself until the preview is there.
    expect(page.locator("#preview-counts")).to_contain_text(
        "6 new, 0 revised, 0 unchanged, 4 cannot be imported.", timeout=60_000
    )
    refused = page.locator("#preview-refused li")
    expect(refused).to_have_count(4)
    expect(refused.nth(2)).to_have_text(
        "line 309 (item SURG-TF1): true/false is not an item kind here"
    )
    row = page.locator('#preview-items tr[data-code="SURG-S1"]')
    expect(row).to_contain_text("Fill in the blank")
    expect(row).to_contain_text("wildcards in accepted answers")
    expect(page.get_by_role("button", name="Import the whole file")).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "bank-upload-preview", full_page=True)
    assert not Item.objects.exists()  # nothing is written before the keeper decides

    page.get_by_role("button", name="Import only the 6 items that passed").click()

    expect(page.locator("#upload-state")).to_have_attribute(
        "data-state", "imported", timeout=60_000
    )
    expect(page.locator("#upload-report")).to_contain_text("6 items created, 0 revised")
    assert set(Item.objects.values_list("code", flat=True)) == {
        "SURG-M1",
        "Bones of the forearm",
        "SURG-S1",
        "SURG-E1",
        "CARD-MN1",
        "CARD-ZH1",
    }
    assert Item.objects.get(code="SURG-M1").current_version.image
    assert not Upload.objects.get().file

    page.goto(f"{daphne.url}/admin/exams/item/?q=SURG-M1")
    expect(page.get_by_role("link", name=re.compile("SURG-M1"))).to_be_visible()
