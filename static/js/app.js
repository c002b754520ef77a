// Progressive enhancement only: the site works without this file.
// htmx requests carry the page's CSRF token in a header, as the server expects.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.content;
  }
});
