// Message catalogs: one JSON file per language under i18n/, listed by i18n/languages.json.
// A value is a string, or an object of plural forms keyed by Intl.PluralRules categories
// ("one", "other", …). Placeholders are {name}. Missing keys fall back to the default
// language, then to the key itself, so a half-translated catalog never breaks a screen.

const catalogs = new Map();
let languages = [];
let fallback = 'en';
let current = 'en';

export async function loadCatalogs() {
  const list = await fetchJSON('i18n/languages.json');
  if (typeof list.default === 'string') fallback = list.default;
  const codes = Array.isArray(list.languages) ? list.languages.filter(isCode) : [];
  const loaded = await Promise.all(codes.map(async (code) => {
    try {
      return [code, await fetchJSON(`i18n/${code}.json`)];
    } catch {
      return [code, null];
    }
  }));
  for (const [code, cat] of loaded) {
    if (cat && typeof cat === 'object') catalogs.set(code, cat);
  }
  languages = codes.filter((c) => catalogs.has(c));
  if (!setLanguage(fallback) && languages.length > 0) setLanguage(languages[0]);
}

async function fetchJSON(url) {
  const resp = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  return resp.json();
}

function isCode(c) {
  return typeof c === 'string' && /^[A-Za-z-]{2,10}$/.test(c);
}

export function availableLanguages() {
  return languages.slice();
}

export function hasLanguage(code) {
  return catalogs.has(code);
}

export function language() {
  return current;
}

// setLanguage switches the catalog and the document's language. Unknown codes keep the
// current language.
export function setLanguage(code) {
  if (!catalogs.has(code)) return false;
  current = code;
  document.documentElement.lang = code;
  return true;
}

function lookup(code, key) {
  const cat = catalogs.get(code);
  return cat && Object.prototype.hasOwnProperty.call(cat, key) ? cat[key] : undefined;
}

function raw(key, code = current) {
  let v = lookup(code, key);
  if (v === undefined) v = lookup(fallback, key);
  return v;
}

function fill(s, vars) {
  return s.replace(/\{(\w+)\}/g, (m, name) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m);
}

// t returns the message for key in the current language, with {placeholders} filled.
export function t(key, vars = {}, code = current) {
  const v = raw(key, code);
  if (typeof v === 'string') return fill(v, vars);
  if (v && typeof v === 'object') return plural(key, vars.n ?? 0, vars, code);
  return key;
}

// plural picks the form for n by the language's plural rules ("1 try", "2 tries").
export function plural(key, n, vars = {}, code = current) {
  const v = raw(key, code);
  if (typeof v === 'string') return fill(v, { ...vars, n });
  if (!v || typeof v !== 'object') return key;
  let category = 'other';
  try {
    category = new Intl.PluralRules(code).select(n);
  } catch {
    // An engine without this locale: "other" is always present.
  }
  const form = typeof v[category] === 'string' ? v[category] : v.other;
  return typeof form === 'string' ? fill(form, { ...vars, n }) : key;
}

// apply fills every [data-i18n] element's text and every [data-i18n-label] element's
// aria-label under root.
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  }
}
