// Progressive enhancement only: the site works without this file.
// htmx requests carry the page's CSRF token in a header, as the server expects.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.content;
  }
});

// A comment or reply posted in place: empty the form, and fold the reply box it sits in.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-reset-on-success")) {
    return;
  }
  if (event.detail.successful && event.detail.xhr.status === 201) {
    form.reset();
    const box = form.closest("details");
    if (box) {
      box.open = false;
    }
  }
});

// New comments from other people arrive over server-sent events. Each goes under its parent
// when that is on the page (or at the end of the list for a top-level one), once.
document.addEventListener("htmx:sseBeforeMessage", (event) => {
  if (event.detail.type !== "comment") {
    return;
  }
  event.preventDefault();
  const template = document.createElement("template");
  template.innerHTML = event.detail.data;
  const comment = template.content.firstElementChild;
  if (!comment || !comment.id || document.getElementById(comment.id)) {
    return;
  }
  const parent = comment.dataset.parent;
  const list = parent
    ? document.getElementById("replies-" + parent)
    : document.querySelector("[data-live-list]");
  if (!list) {
    return;
  }
  const more = parent ? null : list.querySelector(":scope > .load-more");
  if (more) {
    return; // later pages are not loaded yet: the comment will come with them
  }
  list.appendChild(comment);
  htmx.process(comment);
  comment.classList.add("comment-new");
  const announcer = document.querySelector("[data-live-announcer]");
  if (announcer) {
    const author = comment.querySelector(".comment-author");
    announcer.textContent = "New comment" + (author ? " from " + author.textContent.trim() : "");
  }
});
