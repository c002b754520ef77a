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
    // The next comment from this form is a new request: it needs a key of its own.
    const key = form.querySelector('input[name="idempotency_key"]');
    if (key) {
      const bytes = crypto.getRandomValues(new Uint8Array(18));
      key.value = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    }
    const box = form.closest("details");
    if (box) {
      box.open = false;
    }
    // The focus goes to the comment just posted (its author and text are read out), not to the
    // start of the page when the reply box it was in folds away.
    const posted = /id="(comment-\d+)"/.exec(event.detail.xhr.responseText);
    const comment = posted && document.getElementById(posted[1]);
    if (comment) {
      focusOn(comment);
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
    const name = author ? author.textContent.trim() : "";
    // The page may give the sentence in its language: data-new-comment="… {author} …".
    const sentence = announcer.dataset.newComment;
    announcer.textContent = sentence
      ? sentence.replace("{author}", name)
      : "New comment" + (name ? " from " + name : "");
  }
});

// The keyboard and screen readers after a swap. When a swap replaces the element that had the
// focus (the ballot form's button, a form shown again with its errors, a "load more" link),
// the browser drops the focus to the start of the page. It goes into the new content instead:
// to its error summary, else its heading (and its status message is said aloud), else the
// message or the content itself. htmx keeps the focus itself when the focused element comes
// back with the same id; then nothing moves.
const ERROR_MESSAGE = ".form-error-summary, [role=alert]";
const STATUS_MESSAGE = "[role=status], .flash";
let focusReplaced = false;

function announce(text) {
  const announcer = document.querySelector("[data-announcer]");
  if (!announcer || !text) {
    return;
  }
  // Emptied first, so that the same message twice in a row is said twice.
  announcer.textContent = "";
  window.setTimeout(() => {
    announcer.textContent = text.trim().replace(/\s+/g, " ");
  }, 50);
}

function focusOn(element) {
  if (element.tabIndex < 0 && !element.hasAttribute("tabindex")) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus();
}

function within(content, selector) {
  return content.matches(selector) ? content : content.querySelector(selector);
}

document.addEventListener("htmx:beforeSwap", (event) => {
  const active = document.activeElement;
  focusReplaced = Boolean(
    event.detail.shouldSwap &&
      active &&
      active !== document.body &&
      event.detail.target instanceof Element &&
      event.detail.target.contains(active),
  );
});

document.addEventListener("htmx:afterSwap", (event) => {
  const content = event.target;
  if (!focusReplaced || !(content instanceof HTMLElement) || !content.isConnected) {
    return;
  }
  focusReplaced = false;
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) {
    return;
  }
  const error = within(content, ERROR_MESSAGE);
  if (error) {
    focusOn(error);
    return;
  }
  const status = within(content, STATUS_MESSAGE);
  const heading = within(content, "h1, h2, h3, h4");
  if (heading) {
    focusOn(heading);
    if (status) {
      announce(status.textContent);
    }
  } else {
    focusOn(status || content);
  }
});

document.addEventListener("htmx:afterSettle", () => {
  focusReplaced = false; // a swap that left nothing to focus must not steer a later one
});

// A reply box's form arrives when the box is first opened: the cursor goes into its text.
document.addEventListener("htmx:afterSwap", (event) => {
  const slot = event.detail.target;
  if (slot instanceof HTMLElement && slot.classList.contains("reply-slot")) {
    const text = slot.querySelector("textarea");
    if (text) {
      text.focus();
    }
  }
});
