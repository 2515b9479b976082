// Leadpulse dashboard: small progressive touches; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // "All on this page": tick or untick every lead checkbox of the list.
  for (const all of document.querySelectorAll("input[data-check-all]")) {
    all.addEventListener("change", () => {
      const name = all.getAttribute("data-check-all");
      for (const box of document.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
        box.checked = all.checked;
      }
    });
  }
  // On a phone the filters start folded away, unless some are in use.
  if (window.matchMedia("(max-width: 700px)").matches) {
    for (const box of document.querySelectorAll("details[data-narrow-closed=yes]")) {
      box.open = false;
    }
  }
  // A whole row of the leads list opens the lead (the name stays the real link).
  for (const row of document.querySelectorAll("table.leads tr[data-lead]")) {
    row.addEventListener("click", (event) => {
      if (event.target.closest("a, input, label, button")) return;
      const link = row.querySelector("a.name");
      if (link) window.location.assign(link.href);
    });
  }
  // A rescore that is running: its status line follows it until it has finished.
  const follow = async () => {
    const status = document.querySelector("#rescore[data-follow]");
    if (!status) return;
    const answer = await fetch(status.dataset.follow, { credentials: "same-origin" });
    if (!answer.ok) return;
    const fresh = document.createElement("template");
    fresh.innerHTML = (await answer.text()).trim();
    const line = fresh.content.querySelector("#rescore");
    if (line) status.replaceWith(line);
    window.setTimeout(follow, 1000);
  };
  window.setTimeout(follow, 1000);
});
