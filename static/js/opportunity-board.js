// Pipeline board (销售漏斗看板): drag a card to another column, or use its "move to" form, without
// leaving the page. Progressive enhancement only: without this file every card's small form posts
// to the move page, which also asks for the lost reason. No inline scripts (the CSP forbids them).
//
// The move view answers a board move with the board's columns under the same filters (header
// HX-Retarget: #opportunity-board), swapped in place so both columns' counts and totals update;
// or with the move form (lost reason, next step, errors), shown in a dialog whose submit comes
// back here.
(function () {
  "use strict";

  let lastMoved = null; // the card to give focus back to after the swap (keyboard users)

  function csrfToken(form) {
    const input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function dialog() {
    return document.getElementById("opportunity-move-dialog");
  }

  function swapBoard(html) {
    const board = document.getElementById("opportunity-board");
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.querySelector("#opportunity-board");
    if (!board || !fresh) {
      window.location.reload();
      return;
    }
    board.replaceWith(fresh);
    const moved = lastMoved && fresh.querySelector('[data-opportunity="' + lastMoved + '"] a');
    if (moved) moved.focus();
  }

  function showDialog(html) {
    const box = dialog();
    box.innerHTML = html;
    const cancel = box.querySelector("[data-move-cancel]");
    if (cancel) {
      cancel.addEventListener("click", function (event) {
        event.preventDefault();
        box.close();
      });
    }
    if (!box.open) box.showModal();
    const invalid = box.querySelector(".is-invalid, select, input:not([type=hidden])");
    if (invalid) invalid.focus();
  }

  async function postMove(url, body, token) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        body: body,
        headers: { "HX-Request": "true", "X-CSRFToken": token },
        credentials: "same-origin",
      });
    } catch (error) {
      window.location.reload(); // offline or the server is down: show the page as it is
      return;
    }
    const box = dialog();
    if (response.headers.get("HX-Retarget") === "#opportunity-board") {
      if (box.open) box.close();
      swapBoard(await response.text());
      return;
    }
    if (response.status === 204 || !response.ok) {
      window.location.reload();
      return;
    }
    showDialog(await response.text());
  }

  function cardOf(form) {
    const card = form.closest("[data-opportunity]");
    return card ? card.dataset.opportunity : null;
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches(".opportunity-move, #opportunity-move-dialog #opportunity-move-form")) return;
    if (!form.querySelector("input[name=board]")) return; // not from the board: a plain post
    event.preventDefault();
    if (form.matches(".opportunity-move")) lastMoved = cardOf(form);
    postMove(form.action, new FormData(form), csrfToken(form));
  });

  document.addEventListener("DOMContentLoaded", function () {
    const box = dialog();
    if (box) {
      // Cancelled: the dragged card is back to normal (nothing moved).
      box.addEventListener("close", function () {
        document.querySelectorAll("#opportunity-board .opacity-50").forEach(function (card) {
          card.classList.remove("opacity-50");
        });
      });
    }
    // Listeners on the document: the board element is replaced after every move.
    let dragged = null;
    document.addEventListener("dragstart", function (event) {
      const card = event.target.closest && event.target.closest("#opportunity-board [data-opportunity]");
      dragged = card || null;
      if (dragged) {
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", dragged.dataset.opportunity);
      }
    });
    document.addEventListener("dragover", function (event) {
      const column = event.target.closest && event.target.closest("#opportunity-board [data-stage]");
      if (dragged && column) {
        event.preventDefault();
        column.classList.add("opportunity-column-target");
      }
    });
    document.addEventListener("dragleave", function (event) {
      const column = event.target.closest && event.target.closest("[data-stage]");
      if (column && !column.contains(event.relatedTarget)) column.classList.remove("opportunity-column-target");
    });
    document.addEventListener("dragend", function () {
      document.querySelectorAll(".opportunity-column-target").forEach(function (column) {
        column.classList.remove("opportunity-column-target");
      });
      dragged = null;
    });
    document.addEventListener("drop", function (event) {
      const column = event.target.closest && event.target.closest("#opportunity-board [data-stage]");
      if (!dragged || !column) return;
      event.preventDefault();
      column.classList.remove("opportunity-column-target");
      const form = dragged.querySelector("form.opportunity-move");
      const card = dragged;
      dragged = null;
      if (!form || card.closest("[data-stage]") === column) return;
      const body = new FormData(form);
      body.set("stage", column.dataset.stage);
      lastMoved = card.dataset.opportunity;
      card.classList.add("opacity-50");
      postMove(form.action, body, csrfToken(form));
    });
  });
})();
