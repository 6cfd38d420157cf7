// The filter bar: matchers as removable chips and an input with label-name and label-value
// autocomplete (an ARIA combobox: arrows move, Enter picks or adds, Escape closes,
// Backspace in an empty input removes the last chip).

import { h, clear } from "./dom.js";
import { parseMatchers, matcherString, MatcherError } from "./matchers.js";

let counter = 0;

// labelValues: () => Map(name -> Map(value -> count)); onChange(matchers) on every change.
export function filterBar({ matchers = [], labelValues, onChange, label = "Filter alerts" }) {
  const id = `fb${++counter}`;
  const state = { matchers: [...matchers], options: [], active: -1 };
  const chips = h("span", { class: "chips" });
  const list = h("ul", { class: "suggest", role: "listbox", id: `${id}-list`, hidden: true, "aria-label": "Suggestions" });
  const problem = h("span", { class: "invalid", role: "alert" });
  const input = h("input", {
    type: "text", id: `${id}-input`, role: "combobox", autocomplete: "off", spellcheck: "false",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": `${id}-list`,
    "aria-label": label, placeholder: 'e.g. severity="critical"',
  });
  const bar = h("div", { class: "filterbar grow" }, chips, input, list, problem);

  function emit() {
    renderChips();
    onChange(state.matchers);
  }

  function renderChips() {
    clear(chips);
    state.matchers.forEach((m, i) => {
      const text = matcherString(m);
      chips.append(h("span", { class: "chip" }, text,
        h("button", { type: "button", "aria-label": `Remove filter ${text}`, onclick: () => {
          state.matchers.splice(i, 1);
          emit();
          input.focus();
        } }, "×")));
    });
  }

  function add(text) {
    problem.textContent = "";
    try {
      state.matchers.push(...parseMatchers(text));
    } catch (e) {
      if (!(e instanceof MatcherError)) throw e;
      problem.textContent = e.message;
      return false;
    }
    input.value = "";
    close();
    emit();
    return true;
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    state.active = -1;
  }

  function suggestions(text) {
    const values = labelValues();
    const op = /^("?[^=!~"]+"?)\s*(=~|!~|!=|=)\s*"?([^"]*)$/.exec(text);
    if (op) {
      const name = op[1].replace(/"/g, "");
      const typed = op[3].toLowerCase();
      const vals = values.get(name);
      if (!vals) return [];
      return [...vals.entries()]
        .filter(([v]) => v.toLowerCase().includes(typed))
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 12)
        .map(([v, n]) => ({ text: `${name}${op[2]}"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`, hint: `${n}`, complete: true }));
    }
    const typed = text.trim().toLowerCase();
    return [...values.keys()]
      .filter((k) => k.toLowerCase().startsWith(typed))
      .sort()
      .slice(0, 12)
      .map((k) => ({ text: `${k}=`, hint: `${values.get(k).size} values`, complete: false }));
  }

  function render() {
    state.options = suggestions(input.value);
    clear(list);
    if (!state.options.length || document.activeElement !== input) {
      close();
      return;
    }
    state.options.forEach((o, i) => {
      list.append(h("li", {
        id: `${id}-opt${i}`, role: "option", "aria-selected": i === state.active ? "true" : "false",
        onmousedown: (ev) => { ev.preventDefault(); pick(i); },
      }, o.text, " ", h("span", { class: "sr" }, `(${o.hint})`)));
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (state.active >= 0) input.setAttribute("aria-activedescendant", `${id}-opt${state.active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  function pick(i) {
    const o = state.options[i];
    if (!o) return;
    if (o.complete) {
      add(o.text);
    } else {
      input.value = o.text;
      state.active = -1;
      render();
    }
    input.focus();
  }

  input.addEventListener("input", () => {
    problem.textContent = "";
    state.active = -1;
    render();
  });
  input.addEventListener("focus", render);
  // Closed a moment after focus leaves (a click on an option lands first), unless it came back.
  input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) close(); }, 100));
  input.addEventListener("keydown", (ev) => {
    const n = state.options.length;
    if (ev.key === "ArrowDown" && n) {
      ev.preventDefault();
      if (list.hidden) render();
      state.active = (state.active + 1) % n;
      render();
    } else if (ev.key === "ArrowUp" && n) {
      ev.preventDefault();
      state.active = (state.active - 1 + n) % n;
      render();
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (state.active >= 0 && !list.hidden) pick(state.active);
      else if (input.value.trim()) add(input.value);
    } else if (ev.key === "Escape") {
      if (!list.hidden) {
        ev.stopPropagation();
        close();
      }
    } else if (ev.key === "Backspace" && !input.value && state.matchers.length) {
      state.matchers.pop();
      emit();
    }
  });
  renderChips();
  return {
    el: bar,
    input,
    set(matchers) {
      state.matchers = [...matchers];
      renderChips();
    },
    add(m) {
      if (!state.matchers.some((x) => matcherString(x) === matcherString(m))) {
        state.matchers.push(m);
        emit();
      }
    },
  };
}
