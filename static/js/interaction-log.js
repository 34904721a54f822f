// Logging an interaction in place on the customer page. Progressive enhancement only: without
// this file "Log interaction" is a link to the full-page form and "Cancel" a link back.

// Close the in-place form (or the note that it was saved): empty its container on the page.
document.addEventListener("click", (event) => {
  const closer = event.target instanceof Element ? event.target.closest("[data-log-close]") : null;
  const slot = closer ? closer.closest("#interaction-log-slot") : null;
  if (!slot) {
    return;
  }
  event.preventDefault();
  slot.replaceChildren();
  const opener = document.querySelector("[data-log-open]");
  if (opener) {
    opener.focus();
  }
});

// When the form arrives, bring it into view and put the cursor in the topic.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!(target instanceof Element) || target.id !== "interaction-log-slot") {
    return;
  }
  const form = target.querySelector("#interaction-log-form");
  if (form) {
    target.scrollIntoView({ block: "nearest" });
    const topic = form.querySelector('[name="topic"]');
    if (topic && !form.querySelector(".is-invalid")) {
      topic.focus({ preventScroll: true });
    }
  }
});
