// The customer page, progressive enhancement only: without this file the forms post directly.
// Forms marked data-confirm (deleting a contact, an attachment or the customer) ask first.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
