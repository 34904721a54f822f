// The customer form (customers/customer_form.html). Progressive enhancement only: without this
// file every section shows and the server keeps the fields of the chosen kind.
(() => {
  const form = document.querySelector("[data-customer-form]");
  if (!form) return;

  // Show only the section of the chosen kind (enterprise or individual).
  const showKind = () => {
    const chosen = form.querySelector('input[name="kind"]:checked');
    if (!chosen) return;
    form.querySelectorAll("[data-kind-section]").forEach((section) => {
      section.classList.toggle("d-none", section.dataset.kindSection !== chosen.value);
    });
  };
  form.querySelectorAll('input[name="kind"]').forEach((radio) => radio.addEventListener("change", showKind));
  showKind();

  // One primary contact: ticking one unticks the others (the server refuses two anyway).
  form.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.name.endsWith("-is_primary") || !box.checked) return;
    form.querySelectorAll('input[name$="-is_primary"]').forEach((other) => {
      if (other !== box) other.checked = false;
    });
  });

  // "Add another contact": a copy of the formset's empty form with the next index.
  const addButton = form.querySelector("[data-add-contact]");
  const template = document.getElementById("contact-template");
  const list = form.querySelector("[data-contact-forms]");
  const total = form.querySelector('input[name="contacts-TOTAL_FORMS"]');
  const max = form.querySelector('input[name="contacts-MAX_NUM_FORMS"]');
  if (addButton && template && list && total) {
    const limit = max ? Number(max.value) : Infinity;
    const refresh = () => {
      addButton.disabled = Number(total.value) >= limit;
    };
    addButton.hidden = false;
    refresh();
    addButton.addEventListener("click", () => {
      const index = Number(total.value);
      if (index >= limit) return;
      const html = template.innerHTML.replaceAll("__prefix__", String(index));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      refresh();
      const first = list.lastElementChild && list.lastElementChild.querySelector("input");
      if (first) first.focus();
    });
  }
})();
