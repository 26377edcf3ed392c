// The sitting's oversight page: the live rooms' table refreshes itself, and a changed report text
// must be saved before it can be signed (a signature covers the saved text, by its SHA-256).
const REFRESH_MS = 10_000;

const live = document.getElementById("live");
if (live) {
  setInterval(async () => {
    if (document.hidden) return;
    try {
      const response = await fetch(live.dataset.url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.ok) live.innerHTML = await response.text();
    } catch {
      // Offline for a moment: the next refresh tries again.
    }
  }, REFRESH_MS);
}

for (const form of document.querySelectorAll("form.report-edit")) {
  const text = form.querySelector("textarea");
  const saved = text.value;
  const card = form.closest(".report");
  text.addEventListener("input", () => {
    const changed = text.value !== saved;
    form.querySelector(".unsaved").hidden = !changed;
    for (const button of card.querySelectorAll(".sign-file button")) {
      if (changed) button.disabled = true;
      else if (button.dataset.wasDisabled !== "true") button.disabled = false;
    }
  });
  for (const button of card.querySelectorAll(".sign-file button")) button.dataset.wasDisabled = String(button.disabled);
}
