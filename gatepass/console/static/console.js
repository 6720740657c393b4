// The only script of the console: dialogs (open, close, Escape, focus trap via showModal)
// copy to clipboard, the count of "Revoke all", and the token of an emailed link. Everything else is plain HTML forms.
"use strict";

function openDialog(dialog, opener) {
  dialog.showModal();
  dialog.addEventListener("close", () => {
    if (dialog.hasAttribute("data-remove-on-close")) {
      dialog.remove(); // a revealed secret leaves the page with its dialog
    }
    if (opener) opener.focus();
  }, { once: true });
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-open], [data-close], [data-copy]");
  if (!target) return;
  if (target.hasAttribute("data-open")) {
    const dialog = document.getElementById(target.getAttribute("data-open"));
    const menu = target.closest("details");
    if (menu) menu.open = false;
    if (dialog) openDialog(dialog, menu ? menu.querySelector("summary") : target);
  } else if (target.hasAttribute("data-close")) {
    target.closest("dialog").close();
  } else {
    const field = document.getElementById(target.getAttribute("data-copy"));
    const text = "value" in field ? field.value : field.textContent;
    navigator.clipboard.writeText(text).then(() => {
      const label = target.textContent;
      target.textContent = "Copied";
      setTimeout(() => { target.textContent = label; }, 1500);
    });
  }
});

// Which credential the link is for, before the recipient asks to see its secret: the server
// answers without using the link up, and never with the secret.
function describeLink(token) {
  const about = document.querySelector("[data-about]");
  fetch("/console/link/about", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }),
  }).then((answer) => answer.json()).then((found) => {
    if (found.found) {
      about.textContent = found.summary;
    } else {
      about.textContent = "This link no longer works: it has been opened already, or it has expired.";
      about.classList.add("error");
    }
    about.hidden = false;
  });
}

// "Revoke all": the count the dialog states follows its "keep" checkbox.
document.addEventListener("change", (event) => {
  const toggle = event.target.closest("[data-keep-toggle]");
  if (!toggle) return;
  const form = toggle.closest("form");
  form.querySelector('[data-revokes="kept"]').hidden = !toggle.checked;
  form.querySelector('[data-revokes="every"]').hidden = toggle.checked;
});

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("dialog[data-open-now]").forEach((dialog) => openDialog(dialog, null));
  // An emailed one-time link carries its token in the fragment, which no server ever sees;
  // it goes into the form (posted only when the recipient asks) and leaves the address bar.
  const linkForm = document.querySelector("form[data-token-from-fragment]");
  if (linkForm) {
    const token = window.location.hash.slice(1);
    history.replaceState(null, "", window.location.pathname);
    if (token) {
      linkForm.elements.token.value = token;
      describeLink(token);
    } else {
      linkForm.querySelector("[data-no-token]").hidden = false;
      linkForm.querySelector("button[type=submit]").disabled = true;
    }
  }
});
