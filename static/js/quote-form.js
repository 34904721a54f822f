// Quote pages (templates/opportunities/quote_form.html and quote_print.html). Progressive
// enhancement only: without this file the form offers empty rows and a "remove" box per line, the
// server fills a line from its product and computes every amount, and the printable page is
// printed with the browser's own command. No inline scripts (the CSP forbids them).
(() => {
  "use strict";

  // The printable page: "Print / save as PDF".
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });

  const form = document.querySelector("[data-quote-form]");
  if (!form) return;

  const productsElement = document.getElementById("quote-products");
  const products = productsElement ? JSON.parse(productsElement.textContent) : {};
  const list = form.querySelector("[data-line-forms]");
  const template = document.getElementById("quote-line-template");
  const addButton = form.querySelector("[data-add-line]");
  const total = form.querySelector('input[name="lines-TOTAL_FORMS"]');
  const max = form.querySelector('input[name="lines-MAX_NUM_FORMS"]');
  const currency = form.querySelector("[data-quote-currency]");
  const rate = form.querySelector("[data-quote-rate]");
  const tax = form.querySelector("[data-quote-tax]");
  const preview = form.querySelector("[data-quote-preview]");

  const number = (input) => {
    const value = input ? Number.parseFloat(input.value) : Number.NaN;
    return Number.isFinite(value) ? value : 0;
  };
  // Half up to 0.01, like the server (which uses Decimal; this is only a preview).
  const cents = (value) => Math.sign(value) * Math.round(Math.abs(value) * 100 + 1e-7) / 100;
  const format = (value) =>
    `${value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency ? currency.value : ""}`.trim();

  const rows = () => Array.from(list.querySelectorAll("[data-line]"));
  const removed = (row) => {
    const box = row.querySelector('input[name$="-DELETE"]');
    return box && box.checked;
  };

  function recalc() {
    let listTotal = 0;
    let subtotal = 0;
    let any = false;
    rows().forEach((row) => {
      const cell = row.querySelector("[data-line-amount]");
      const quantity = number(row.querySelector("[data-line-quantity]"));
      const price = number(row.querySelector("[data-line-price]"));
      const discount = number(row.querySelector("[data-line-discount]"));
      const filled = row.querySelector("[data-line-product]").value || row.querySelector("[data-line-description]").value.trim();
      if (removed(row) || !filled || quantity <= 0) {
        if (cell) cell.textContent = "";
        return;
      }
      any = true;
      const amount = cents(quantity * price * (1 - discount / 100));
      listTotal += cents(quantity * price);
      subtotal += amount;
      if (cell) cell.textContent = format(amount);
    });
    if (!preview) return;
    preview.hidden = !any;
    const taxAmount = cents(subtotal * number(tax) / 100);
    const values = {
      list_total: listTotal,
      discount_total: listTotal - subtotal,
      subtotal: subtotal,
      tax_amount: taxAmount,
      total: subtotal + taxAmount,
    };
    Object.entries(values).forEach(([name, value]) => {
      const target = preview.querySelector(`[data-preview="${name}"]`);
      if (target) target.textContent = format(cents(value));
    });
  }

  // A CNY list price in the quote's currency: ÷ rate, rounded to 0.01 (as the server does).
  function priceFor(product) {
    const cny = Number.parseFloat(product.price);
    const r = currency && currency.value !== "CNY" ? number(rate) : 1;
    return (r > 0 ? cents(cny / r) : cny).toFixed(2);
  }

  // Choosing a product fills what is empty or what the previous product filled in.
  function fillFromProduct(row) {
    const select = row.querySelector("[data-line-product]");
    const product = products[select.value];
    if (!product) return;
    const values = { description: product.name, unit: product.unit, price: priceFor(product) };
    Object.entries(values).forEach(([name, value]) => {
      const input = row.querySelector(`[data-line-${name}]`);
      if (!input) return;
      if (!input.value.trim() || input.dataset.autofilled === input.value) {
        input.value = value;
        input.dataset.autofilled = value;
      }
    });
  }

  function enhance(row) {
    const box = row.querySelector("[data-line-remove-box]");
    const button = row.querySelector("[data-line-remove]");
    if (box && button) {
      box.hidden = true;
      button.hidden = false;
    }
  }

  rows().forEach(enhance);

  list.addEventListener("change", (event) => {
    const row = event.target.closest("[data-line]");
    if (row && event.target.matches("[data-line-product]")) fillFromProduct(row);
    recalc();
  });
  list.addEventListener("input", recalc);

  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-line-remove]");
    if (!button) return;
    const row = button.closest("[data-line]");
    const box = row.querySelector('input[name$="-DELETE"]');
    if (box) box.checked = true;
    row.hidden = true;
    recalc();
  });

  if (addButton && template && total) {
    const limit = max ? Number(max.value) : Number.POSITIVE_INFINITY;
    const refresh = () => {
      addButton.disabled = Number(total.value) >= limit;
    };
    addButton.hidden = false;
    refresh();
    addButton.addEventListener("click", () => {
      const index = Number(total.value);
      if (index >= limit) return;
      list.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", String(index)));
      total.value = String(index + 1);
      const row = list.lastElementChild;
      enhance(row);
      refresh();
      row.querySelector("[data-line-product]").focus();
    });
  }

  if (currency && rate) {
    currency.addEventListener("change", () => {
      if (currency.value === "CNY") rate.value = "1";
      recalc();
    });
  }
  [rate, tax].forEach((input) => input && input.addEventListener("input", recalc));
  recalc();
})();
