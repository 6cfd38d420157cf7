// Alertmanager's matcher syntax in the browser: parse `name=value`, `name!="v"`, `name=~"re"`,
// `name!~re`, a `{...}` list of them, and match label sets the way the v2 API's `filter`
// parameter does, so a filter here selects what `amtool alert query` would.

export const TYPES = ["=", "!=", "=~", "!~"];
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MatcherError extends Error {}

function readQuoted(text, i) {
  // text[i] === '"'; returns [value, nextIndex]. Go's escapes that matter for labels.
  let out = "";
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === "\\") {
      const n = text[++j];
      if (n === undefined) break;
      out += n === "n" ? "\n" : n === "t" ? "\t" : n;
    } else if (c === '"') {
      return [out, j + 1];
    } else {
      out += c;
    }
  }
  throw new MatcherError(`unterminated quoted string in ${JSON.stringify(text)}`);
}

function skipSpace(text, i) {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

// "a=b, c=~\"d|e\"" or "{a=b}" -> [{name, type, value}, ...]; throws MatcherError.
export function parseMatchers(input) {
  let text = input.trim();
  if (text.startsWith("{")) {
    if (!text.endsWith("}")) throw new MatcherError(`missing closing "}" in ${JSON.stringify(input)}`);
    text = text.slice(1, -1);
  }
  const out = [];
  let i = skipSpace(text, 0);
  while (i < text.length) {
    let name;
    if (text[i] === '"') {
      [name, i] = readQuoted(text, i);
    } else {
      const m = /^[^\s=!~,{}"]+/.exec(text.slice(i));
      if (!m) throw new MatcherError(`expected a label name at ${JSON.stringify(text.slice(i))}`);
      name = m[0];
      i += name.length;
    }
    i = skipSpace(text, i);
    const op = /^(=~|!~|!=|=)/.exec(text.slice(i));
    if (!op) throw new MatcherError(`expected an operator (=, !=, =~, !~) after ${JSON.stringify(name)}`);
    i = skipSpace(text, i + op[0].length);
    let value;
    if (text[i] === '"') {
      [value, i] = readQuoted(text, i);
    } else {
      const m = /^[^,}]*/.exec(text.slice(i));
      value = m[0].trim();
      i += m[0].length;
    }
    const matcher = { name, type: op[0], value };
    compile(matcher);
    out.push(matcher);
    i = skipSpace(text, i);
    if (text[i] === ",") i = skipSpace(text, i + 1);
    else if (i < text.length) throw new MatcherError(`unexpected ${JSON.stringify(text.slice(i))}`);
  }
  if (!out.length) throw new MatcherError("no matcher given");
  return out;
}

// Go's RE2 syntax in a JavaScript RegExp: leading flag groups become flags; fully anchored.
export function compileRegex(source) {
  let flags = "u";
  let body = source;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    body = body.slice(lead[0].length);
    for (const f of lead[1]) if ("ims".includes(f) && !flags.includes(f)) flags += f;
  }
  body = body.replace(/\\z/g, "$");
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch (e) {
    throw new MatcherError(`invalid regular expression ${JSON.stringify(source)}: ${e.message}`);
  }
}

function compile(m) {
  if (m.re === undefined) m.re = m.type === "=~" || m.type === "!~" ? compileRegex(m.value) : null;
  return m;
}

export function matchesValue(m, value) {
  compile(m);
  switch (m.type) {
    case "=": return value === m.value;
    case "!=": return value !== m.value;
    case "=~": return m.re.test(value);
    default: return !m.re.test(value);
  }
}

// The v2 API's filter semantics (api/v2: an empty-valued matcher ignores a label's absence).
export function matchesLabels(matchers, labels) {
  for (const m of matchers) {
    const present = Object.prototype.hasOwnProperty.call(labels, m.name);
    const value = present ? labels[m.name] : "";
    if (m.type === "!=" || m.type === "!~") {
      if (m.value === "" && present) continue;
    } else if (m.value === "" && !present) {
      continue;
    }
    if (!matchesValue(m, value)) return false;
  }
  return true;
}

function quote(s) {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

export function matcherString(m) {
  return `${NAME.test(m.name) ? m.name : quote(m.name)}${m.type}${quote(m.value)}`;
}

// The v2 silence JSON's matcher <-> {name, type, value}.
export function fromSilenceMatcher(m) {
  const eq = m.isEqual !== false;
  return { name: m.name, value: m.value, type: m.isRegex ? (eq ? "=~" : "!~") : eq ? "=" : "!=" };
}

export function toSilenceMatcher(m) {
  return { name: m.name, value: m.value, isRegex: m.type.endsWith("~"), isEqual: !m.type.startsWith("!") };
}
