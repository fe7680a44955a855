/* Klachtentriage – keyboard shortcuts for the review UI. Plain ES2017, no libraries.
 *
 * Queue page:  j / ArrowDown = next row, k / ArrowUp = previous row, Enter = open the selected row;
 *              clicking a row (outside a link or button) opens it.
 * Case page:   c = confirm the classification, j / k = next / previous case, u = queue,
 *              1 / 2 = kind complaint / question, p / d / m = topic product / service / staff,
 *              f / i = formality formal / informal. After a correction that changed the term the
 *              page opens at #send-corrected-ack, which focuses that button: Enter sends it.
 *              a = write the answer (the composer), t = assign the case to me, g = mark new mail read.
 * Answer page: Ctrl+Enter = preview, Ctrl+S = save as draft (also while typing), Esc = back to the case.
 * Worklists:   as the queue.
 * Message page: u = queue.
 * Keys are ignored while typing in a field and when ctrl, alt or meta is held.
 */
(function () {
  "use strict";

  // Case page: the radio button each label key chooses (1 and 2 choose the kind).
  const LABEL_KEYS = { p: "topic-product", d: "topic-service", m: "topic-staff", f: "formality-formal",
    i: "formality-informal" };
  const NON_TEXT_TYPES = new Set(["radio", "checkbox", "button", "submit", "reset", "image", "range", "color", "file"]);

  /** True when the key press belongs to a field the user is typing in. */
  function inField(target) {
    if (!target || !(target instanceof Element)) {
      return false;
    }
    if (target.isContentEditable) {
      return true;
    }
    const tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") {
      return true;
    }
    if (tag === "INPUT") {
      // Radio buttons and checkboxes take no text: after choosing a label, "c" must still confirm.
      return !NON_TEXT_TYPES.has((target.getAttribute("type") || "text").toLowerCase());
    }
    return false;
  }

  function ignore(event) {
    return event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey ||
      inField(event.target);
  }

  function go(url) {
    if (url) {
      window.location.assign(url);
    }
  }

  function queueUrl() {
    const brand = document.querySelector("a.brand");
    return brand ? brand.getAttribute("href") : "/";
  }

  /* ---------------- Queue ---------------- */

  function initQueue() {
    const rows = Array.from(document.querySelectorAll("tr.queue-row"));
    if (!rows.length) {
      return;
    }
    let current = -1;

    function select(index, scroll) {
      if (index < 0 || index >= rows.length) {
        return;
      }
      if (current >= 0) {
        rows[current].classList.remove("selected");
      }
      current = index;
      const row = rows[current];
      row.classList.add("selected");
      if (scroll) {
        row.scrollIntoView({ block: "nearest" });
      }
    }

    function open(row, newTab) {
      const href = row && row.dataset.href;
      if (!href) {
        return;
      }
      if (newTab) {
        window.open(href, "_blank", "noopener");
      } else {
        go(href);
      }
    }

    select(0, false);

    document.addEventListener("keydown", function (event) {
      if (ignore(event)) {
        return;
      }
      switch (event.key) {
        case "j":
        case "ArrowDown":
          event.preventDefault();
          select(Math.min(current + 1, rows.length - 1), true);
          break;
        case "k":
        case "ArrowUp":
          event.preventDefault();
          select(Math.max(current - 1, 0), true);
          break;
        case "Enter": {
          // Enter on a focused link or button does what it always does.
          const active = document.activeElement;
          if (active && active !== document.body && active.closest("a, button, summary, label")) {
            return;
          }
          event.preventDefault();
          open(rows[current], false);
          break;
        }
        default:
          break;
      }
    });

    rows.forEach(function (row, index) {
      row.addEventListener("click", function (event) {
        if (event.button !== 0 || event.target.closest("a, button, input, select, textarea, label, summary")) {
          return;
        }
        const selection = window.getSelection ? String(window.getSelection()) : "";
        if (selection) {
          return; // the user is selecting text, not opening the row
        }
        select(index, false);
        open(row, event.ctrlKey || event.metaKey);
      });
      // Tabbing to a row's link moves the selection along.
      row.addEventListener("focusin", function () {
        select(index, false);
      });
    });
  }

  /* ---------------- Case ---------------- */

  function confirmClassification() {
    const form = document.getElementById("classify-form");
    if (!form) {
      return;
    }
    const button = form.querySelector('button[name="action"][value="confirm"]');
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(button || undefined); // runs validation and submit handlers, sends action=confirm
      return;
    }
    // Older browsers: add the button's name and value by hand.
    let hidden = form.querySelector('input[type="hidden"][name="action"]');
    if (!hidden) {
      hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "action";
      form.appendChild(hidden);
    }
    hidden.value = "confirm";
    if (form.checkValidity()) {
      form.submit();
    } else if (typeof form.reportValidity === "function") {
      form.reportValidity();
    }
  }

  function check(id) {
    const input = document.getElementById(id);
    if (input && !input.disabled) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.focus({ preventScroll: true });
    }
  }

  function initCase() {
    const main = document.querySelector("main[data-next], main[data-prev]") || document.querySelector("main");
    const next = main ? main.dataset.next : "";
    const prev = main ? main.dataset.prev : "";

    document.addEventListener("keydown", function (event) {
      if (ignore(event)) {
        return;
      }
      switch (event.key) {
        case "c":
          event.preventDefault();
          confirmClassification();
          break;
        case "j":
          if (next) {
            event.preventDefault();
            go(next);
          }
          break;
        case "k":
          if (prev) {
            event.preventDefault();
            go(prev);
          }
          break;
        case "u":
          event.preventDefault();
          go(queueUrl());
          break;
        case "a":
        case "t":
        case "g":
          if (press(PROCEDURE_KEYS[event.key])) {
            event.preventDefault();
          }
          break;
        case "1":
          event.preventDefault();
          check("kind-complaint");
          break;
        case "2":
          event.preventDefault();
          check("kind-question");
          break;
        case "p":
        case "d":
        case "m":
        case "f":
        case "i":
          event.preventDefault();
          check(LABEL_KEYS[event.key]);
          break;
        default:
          break;
      }
    });
  }

  /* ---------------- Procedure ---------------- */

  // Case page: the link or button each procedure key presses.
  const PROCEDURE_KEYS = { a: "write-answer", t: "assign-me", g: "mark-read" };

  /** Click the element with this id, if the page offers it; true when it did. */
  function press(id) {
    const element = document.getElementById(id);
    if (!element || element.disabled) {
      return false;
    }
    element.click();
    return true;
  }

  function initAnswer() {
    const main = document.querySelector("main[data-case]");
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey) {
        if (event.key === "Enter" && press("preview")) {
          event.preventDefault();
        } else if ((event.key === "s" || event.key === "S") && press("save-draft")) {
          event.preventDefault();
        }
        return;
      }
      if (event.key === "Escape" && !ignore(event) && main) {
        event.preventDefault();
        go(main.dataset.case);
      }
    });
  }

  /* ---------------- Message ---------------- */

  function initMessage() {
    document.addEventListener("keydown", function (event) {
      if (ignore(event)) {
        return;
      }
      if (event.key === "u") {
        event.preventDefault();
        go(queueUrl());
      }
    });
  }

  function init() {
    const page = document.body ? document.body.dataset.page : "";
    if (page === "case") {
      initCase();
    } else if (page === "answer") {
      initAnswer();
    } else if (page === "message") {
      initMessage();
    } else if (document.querySelector("tr.queue-row")) {
      initQueue();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
