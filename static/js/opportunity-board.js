// Pipeline board (销售漏斗看板): drag a card to another column, or use its "move to" form, without
// leaving the page. Progressive enhancement only: without this file every card's small form posts
// to the move page, which also asks for the lost reason. No inline scripts (the CSP forbids them).
(function () {
  "use strict";

  function csrfToken(form) {
    const input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Posts a move form; 204 means done (reload the board), otherwise the server sent the move form
  // back (e.g. "choose why it was lost"), shown in the dialog.
  async function postMove(url, body, token) {
    const response = await fetch(url, {
      method: "POST",
      body: body,
      headers: { "HX-Request": "true", "X-CSRFToken": token },
      credentials: "same-origin",
    });
    if (response.status === 204) {
      window.location.reload();
      return;
    }
    const dialog = document.getElementById("opportunity-move-dialog");
    dialog.innerHTML = await response.text();
    const cancel = dialog.querySelector("[data-move-cancel]");
    if (cancel) {
      cancel.addEventListener("click", function (event) {
        event.preventDefault();
        dialog.close();
      });
    }
    if (!dialog.open) dialog.showModal();
  }

  function submitForm(form) {
    postMove(form.action, new FormData(form), csrfToken(form));
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches(".opportunity-move, #opportunity-move-form")) {
      event.preventDefault();
      submitForm(form);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    const board = document.getElementById("opportunity-board");
    if (!board) return;
    let dragged = null;
    board.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("[data-opportunity]");
      if (dragged) event.dataTransfer.setData("text/plain", dragged.dataset.opportunity);
    });
    board.addEventListener("dragover", function (event) {
      if (dragged && event.target.closest("[data-stage]")) event.preventDefault();
    });
    board.addEventListener("drop", function (event) {
      const column = event.target.closest("[data-stage]");
      if (!dragged || !column) return;
      event.preventDefault();
      const form = dragged.querySelector("form.opportunity-move");
      if (!form || dragged.closest("[data-stage]") === column) return;
      const body = new FormData(form);
      body.set("stage", column.dataset.stage);
      postMove(form.action, body, csrfToken(form));
      dragged = null;
    });
  });
})();
