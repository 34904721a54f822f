// The customer list: "select all on this page" and showing only the bulk fields the chosen
// action needs. Progressive enhancement only: without this file every field is shown and each
// row is ticked by hand. Listeners are delegated, so they keep working after htmx swaps the rows.
(() => {
  const rowBoxes = () => document.querySelectorAll('input[type="checkbox"][name="ids"][form="bulk-form"]');

  const syncBulkFields = () => {
    const form = document.querySelector("[data-bulk-form]");
    if (!form) return;
    const action = form.querySelector('select[name="action"]');
    form.querySelectorAll("[data-bulk-for]").forEach((element) => {
      const actions = element.dataset.bulkFor.split(" ");
      element.classList.toggle("d-none", !action || !actions.includes(action.value));
    });
  };

  const syncSelectAll = () => {
    const all = document.querySelector("[data-select-all]");
    if (!all) return;
    all.classList.remove("d-none");
    const boxes = Array.from(rowBoxes());
    const ticked = boxes.filter((box) => box.checked).length;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  };

  const setUp = () => {
    syncBulkFields();
    syncSelectAll();
  };

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) return;
    if (target.matches("[data-select-all]")) {
      rowBoxes().forEach((box) => {
        box.checked = target.checked;
      });
    } else if (target.matches('[data-bulk-form] select[name="action"]')) {
      syncBulkFields();
    }
    if (target.matches('[data-select-all], input[name="ids"]')) {
      syncSelectAll();
    }
  });

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", setUp);
})();
