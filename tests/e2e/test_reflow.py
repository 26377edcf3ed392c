"""200 % zoom and 320 px width without loss (WCAG 2.2 1.4.10 reflow, issue 12 point 4), and
prefers-reduced-motion.

A page zoomed to 200 % on a 1280 px screen lays out as 640 CSS px; 400 % (or a phone) as 320. At
both widths the candidate's and the committee's pages must need no sideways scrolling: every line
of text and every control stays in the viewport. Mongolian, whose words are the longest of the
three languages. The proctor's live room is left out: a grid of live videos is content that needs
two dimensions (the criterion's own exception), and proctors work on a desktop screen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from exams.services import enrolment_confirm_identity
from tests.e2e.test_every_page import Visitor, build_world

pytestmark = pytest.mark.e2e

WIDTHS = {"zoom-200": {"width": 640, "height": 430}, "width-320": {"width": 320, "height": 640}}
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1 && getComputedStyle(e).position !== 'fixed' && !e.closest('[hidden]');
  }).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`);
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
}"""


@pytest.mark.parametrize("size", WIDTHS, ids=list(WIDTHS))
def test_the_candidates_and_committees_pages_reflow_without_sideways_scrolling(
    live_server_proc, media_browser, size
):
    world = build_world("mn")
    base = live_server_proc.url
    problems = []

    def look(visitor: Visitor, path: str, ready: str | None = None) -> None:
        visitor.page.set_viewport_size(WIDTHS[size])
        visitor.page.goto(base + path)
        if ready:
            visitor.page.wait_for_selector(ready)
        visitor.page.wait_for_load_state("networkidle")
        found = visitor.page.evaluate(OVERFLOW)
        if found["scroll"] > found["width"] + 1:
            problems.append(
                f"{path}: {found['scroll']} px wide in {found['width']} px; too wide: {found['wide']}"
            )

    first = Visitor(media_browser, base, world, "cand1")
    look(first, "/login/")
    first.sign_in()
    for path in world.pages["cand1"]:
        look(first, path)
    chair = Visitor(media_browser, base, world, "chair")
    chair.sign_in()
    for path in world.pages["chair"]:
        look(chair, path)
    waiting = Visitor(media_browser, base, world, "cand3")
    waiting.sign_in()
    enrolment_confirm_identity(enrolment_id=world.third.pk, candidate=world.third.candidate)
    look(waiting, f"/proctoring/enrolments/{world.third.pk}/waiting-room/")
    exam_path, device = world.exam_page
    candidate = Visitor(media_browser, base, world, "cand2", device=device)
    candidate.sign_in()
    look(candidate, exam_path, ready="#grid .cell")
    expect(candidate.page.locator("#answer")).to_be_visible()
    candidate.screenshot(f"exam-page-{size}")
    assert not problems, "\n".join(problems)


def test_with_reduced_motion_nothing_on_the_exam_page_moves(live_server_proc, media_browser):
    world = build_world("en")
    exam_path, device = world.exam_page
    candidate = Visitor(media_browser, live_server_proc.url, world, "cand2", device=device)
    candidate.page.emulate_media(reduced_motion="reduce")
    candidate.sign_in()
    candidate.page.goto(live_server_proc.url + exam_path)
    candidate.page.wait_for_selector("#grid .cell")
    candidate.page.locator("#grid .cell").nth(1).click()
    assert candidate.page.evaluate("document.getAnimations().length") == 0
    assert candidate.page.evaluate(
        "getComputedStyle(document.querySelector('#finish')).transitionDuration"
    ) in ("0s", "")
