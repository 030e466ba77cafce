// Pages that show rendered emails: width toggle, who the preview is for, dialogs,
// and showing the server's refusals (4xx/5xx fragments) where the user asked.
"use strict";

(() => {
  // Desktop / mobile / plain text, for every preview on the page at once.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-width]");
    if (!button) return;
    const mode = button.dataset.width;
    document.querySelectorAll("[data-width]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.width === mode)));
    document.body.dataset.previewWidth = mode;
  });

  // Preview as a contact picked from the search, or as the sample.
  const changed = (element) => {
    const form = element.closest("form");
    if (form) form.dispatchEvent(new CustomEvent("jr:changed", { bubbles: true }));
  };
  document.addEventListener("click", (event) => {
    const pick = event.target.closest("[data-pick-contact]");
    const sample = event.target.closest("[data-use-sample]");
    if (!pick && !sample) return;
    const input = document.getElementById("preview-contact");
    const label = document.getElementById("preview-as-label");
    const back = document.querySelector("[data-use-sample]");
    input.value = pick ? pick.dataset.pickContact : "";
    label.textContent = pick ? pick.dataset.label : "the sample profile";
    if (back) back.hidden = !pick;
    const choices = document.getElementById("contact-choices");
    if (choices) choices.replaceChildren();
    const search = document.querySelector(".contact-search");
    if (search) search.value = "";
    changed(input);
  });

  // <dialog> open/close buttons.
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) document.getElementById(opener.dataset.openDialog).showModal();
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

  // htmx leaves 4xx/5xx answers unswapped; these requests answer with a fragment that says
  // what went wrong (rate limit, mail server refusal), so show it.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.closest("[data-swap-errors]") && event.detail.xhr.status >= 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

// A/B preview: editing the sample re-renders the variants.
document.addEventListener("input", (event) => {
  if (event.target.matches("[data-sample-input]")) {
    event.target.form.dispatchEvent(new CustomEvent("jr:changed", { bubbles: true }));
  }
});
