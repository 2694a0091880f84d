// The kiosk screens: renders the agent's `state` messages and reports what the citizen did
// (docs/ui-protocol.md, version 1). The agent decides everything; this page only shows.

import * as i18n from './i18n.js';
import { Link, takeToken, reloadWithToken, PROTOCOL_VERSION } from './link.js';
import * as pin from './pin.js';
import { trusted } from './input.js';

const PHASES = new Set(['starting', 'idle', 'reading', 'pin', 'verifying', 'connecting',
  'session', 'ending', 'goodbye', 'error', 'out_of_order']);
const ERROR_CODES = new Set(['card_unreadable', 'card_unsupported', 'card_expired',
  'pin_blocked', 'portal_unavailable', 'portal_untrusted', 'client_cert_refused',
  'reader_missing', 'out_of_order']);
const GOODBYE_REASONS = new Set(['card_removed', 'idle_timeout', 'ended', 'max_length',
  'shutdown', 'cancelled']);
// Errors with no card in the reader to take: no Finish button.
const NO_CARD_ERRORS = new Set(['reader_missing', 'out_of_order']);
const WAIT_SCREENS = new Set(['starting', 'reading', 'verifying', 'connecting', 'ending']);
const SLOW_AFTER_MS = 10000;
// The session's own clock is shown only when it matters: in its last minutes. During the
// idle warning only the warning's countdown shows.
const SESSION_TIME_SHOWN_MS = 5 * 60 * 1000;
// With the warning sound on, tones sound when the warning opens and this long before it ends.
const WARNING_TONE_LAST_MS = 10000;
const ACTIVITY_INTERVAL_MS = 1000;
const MAX_NAME_LENGTH = 120;
// The portal runs scripts and forms and keeps its own cookies (its origin differs from the
// UI's, so allow-same-origin gives it no access to this page), but it may not navigate the
// top window, open windows or dialogs, or download. allow-same-origin is only safe while the
// portal's origin differs from the UI's: portalURL() refuses the UI's own origin.
const PORTAL_SANDBOX = 'allow-scripts allow-same-origin allow-forms';

const $ = (id) => document.getElementById(id);

let token = '';
let link = null;
let last = null; // the last state rendered, or null while disconnected
let lastSeq = -1;
let shownKey = ''; // phase and error code of the screen on show: focus moves when it changes
let lastActivity = 0;
let warningOpenedAt = 0;
let settings = { warningSound: false };
let timeShown = false; // the session's clock is on screen (it was announced when it appeared)
const timers = { slow: 0, session: 0, warning: 0 };
const prefs = { largeText: false, highContrast: false };
// How long after the last Back a load may still be one of the Backs' pages rather than a new
// page: long enough for a slow portal on a busy kiosk. A Back within one portal document
// (its own history.pushState) loads nothing; a page the citizen opens within this time after
// such a Back is taken for the Back's, and Back is disabled one page early (Home still works).
const BACK_SETTLE_MS = 10000;
// How often the joint history's length is read while a portal is shown: a document that
// fires no load event in the frame (the browser's own PDF viewer) still adds an entry.
const NAV_POLL_MS = 400;
// Where the portal frame is in its history: pages behind the current one (an estimate from
// the frame's loads and the history's growth; never more than the joint history holds),
// whether the first page has loaded, the Backs pressed whose page has not loaded yet and when
// the last was pressed (a Back can be pressed before the page of the one before has loaded),
// the history length last seen and at the first page's load (the frame's first navigation
// may add an entry of its own, so the pages behind are at most history.length - base), and
// the poll's timer.
const nav = { behind: 0, loaded: false, backs: 0, backAt: 0, length: 0, base: 0, poll: 0 };

async function main() {
  try {
    await i18n.loadCatalogs();
  } catch {
    // Without catalogs the screens show their keys; the kiosk still works.
  }
  settings = await loadSettings();
  token = takeToken();
  i18n.apply();
  buildLanguageButtons();
  wireControls();
  pin.setup({
    onSubmit: (p) => send({ type: 'pin', pin: p }),
    onCancel: () => send({ type: 'cancel' }),
    onAnnounce: announce,
  });
  showDisconnected();
  document.body.dataset.ready = 'true';
  link = new Link(token, {
    onOpen: () => {
      lastSeq = -1;
      document.body.dataset.connected = 'true';
    },
    onMessage,
    onClose: () => {
      document.body.dataset.connected = 'false';
      showDisconnected();
    },
  });
  link.start();
}

// loadSettings reads the kiosk's settings for the page; without them the defaults hold.
async function loadSettings() {
  try {
    const resp = await fetch('settings.json', { cache: 'no-store', credentials: 'same-origin' });
    const s = resp.ok ? await resp.json() : {};
    return { warningSound: s && s.warningSound === true };
  } catch {
    return { warningSound: false };
  }
}

function send(msg) {
  return link ? link.send(msg) : false;
}

function onMessage(msg) {
  if (msg.v !== PROTOCOL_VERSION) {
    // A newer agent: load its page. Delay so a broken agent cannot spin the page.
    link.stop();
    setTimeout(() => reloadWithToken(token), 1000);
    return;
  }
  switch (msg.type) {
    case 'state':
      if (!Number.isInteger(msg.seq) || msg.seq <= lastSeq) return;
      lastSeq = msg.seq;
      render(msg);
      break;
    case 'wipe':
      wipe();
      break;
    case 'error':
      // The agent refused something we sent; let the citizen try again.
      pin.clear();
      break;
    default:
      break;
  }
}

// --- rendering ---------------------------------------------------------------------------

function render(state) {
  const phase = PHASES.has(state.phase) ? state.phase : 'error';
  const prev = last;
  last = state;

  if (typeof state.lang === 'string' && state.lang !== i18n.language() && i18n.setLanguage(state.lang)) {
    i18n.apply();
    updateLanguageButtons();
  }
  const langChanged = prev && prev.lang !== state.lang;
  showDisplay(state.display);
  if (phase !== 'session') {
    removePortal();
    closeWarning();
    stopTimer('session');
    closePrefsPanel();
  }

  let screen = phase;
  let code = '';
  let message = '';
  let assertive = false;
  switch (phase) {
    case 'pin': {
      const changed = !prev || prev.phase !== 'pin' || langChanged ||
        JSON.stringify(prev.pin) !== JSON.stringify(state.pin);
      const wrong = pin.show(state.pin, { changed });
      if (wrong && changed) {
        message = wrong;
        assertive = true;
      }
      break;
    }
    case 'session':
      showSession(state);
      break;
    case 'ending':
      $('ending-reason').textContent = goodbyeReason(state);
      break;
    case 'goodbye': {
      const reason = state.goodbye && state.goodbye.reason;
      $('goodbye-title').textContent = i18n.t(reason === 'card_removed' ? 'goodbye.titleCardOut' : 'goodbye.title');
      // Without a reason the visit is long over and only the card is left in the reader:
      // the screen asks for it until it is out.
      $('goodbye-reason').textContent = goodbyeReason(state) || i18n.t('goodbye.stillIn');
      if (prev && prev.phase === 'goodbye' && prev.goodbye && prev.goodbye.reason && !reason) {
        message = `${$('goodbye-title').textContent}. ${$('goodbye-reason').textContent}`;
      }
      break;
    }
    case 'error':
    case 'out_of_order': {
      screen = 'error';
      code = state.error && ERROR_CODES.has(state.error.code) ? state.error.code
        : (phase === 'out_of_order' ? 'out_of_order' : 'unknown');
      $('error-title').textContent = i18n.t(`error.${code}.title`);
      $('error-body').textContent = i18n.t(`error.${code}.body`);
      $('error-finish').hidden = phase === 'out_of_order' || NO_CARD_ERRORS.has(code);
      assertive = true;
      break;
    }
    default:
      break;
  }
  if (phase !== 'pin') pin.clear();

  document.body.dataset.phase = phase;
  document.body.dataset.lang = i18n.language();
  const key = `${screen}/${code}`;
  const moved = key !== shownKey;
  showScreen(screen, moved);
  if (moved || langChanged) {
    const heading = currentHeading();
    announce(message || `${heading.textContent}. ${screenSummary(screen)}`, assertive);
  } else if (message) {
    announce(message, assertive);
  }
  shownKey = key;
}

function goodbyeReason(state) {
  const r = state.goodbye && state.goodbye.reason;
  return GOODBYE_REASONS.has(r) ? i18n.t(`goodbye.reason.${r}`) : '';
}

function showScreen(screen, moved) {
  for (const s of document.querySelectorAll('main > .screen')) {
    s.hidden = s.id !== `screen-${screen}`;
  }
  const section = $(`screen-${screen}`);
  placePrefs(section);
  document.title = `${currentHeading().textContent} – ${i18n.t('app.title')}`;
  if (!moved) return;
  stopTimer('slow');
  for (const p of document.querySelectorAll('.slow')) p.hidden = true;
  if (WAIT_SCREENS.has(screen)) {
    timers.slow = setTimeout(() => {
      const slow = section.querySelector('.slow');
      if (slow) {
        slow.hidden = false;
        announce(slow.textContent, false);
      }
    }, SLOW_AFTER_MS);
  }
  if (!$('idle-warning').open) currentHeading().focus();
}

function currentHeading() {
  const section = document.querySelector('main > .screen:not([hidden])');
  return section ? section.querySelector('h1') : $('starting-title');
}

function screenSummary(screen) {
  const section = $(`screen-${screen}`);
  const lead = section && section.querySelector('.lead');
  return lead ? lead.textContent : '';
}

function showDisconnected() {
  // The agent went away: whatever was on screen belongs to a session that is over.
  if (last && last.phase !== 'idle' && last.phase !== 'starting') wipe();
  last = null;
  lastSeq = -1;
  pin.clear();
  removePortal();
  closeWarning();
  stopTimer('session');
  document.body.dataset.phase = 'starting';
  const moved = shownKey !== 'starting/';
  showScreen('starting', moved);
  if (moved) announce(`${$('starting-title').textContent}. ${screenSummary('starting')}`, false);
  shownKey = 'starting/';
}

// --- the session -------------------------------------------------------------------------

function showSession(state) {
  const name = state.citizen && typeof state.citizen.name === 'string'
    ? state.citizen.name.slice(0, MAX_NAME_LENGTH).trim() : '';
  $('session-title').textContent = name ? i18n.t('session.title', { name }) : i18n.t('session.titleNoName');

  const endsAt = state.session && Number.isFinite(state.session.endsAt) ? state.session.endsAt : null;
  stopTimer('session');
  const tick = () => {
    const left = endsAt === null ? Infinity : endsAt - Date.now();
    const show = left <= SESSION_TIME_SHOWN_MS && !$('idle-warning').open;
    $('session-time-value').textContent = show ? formatDuration(left) : '';
    $('session-time').hidden = !show;
    if (show && !timeShown) announce(`${$('session-time-label').textContent} ${$('session-time-value').textContent}`, false);
    timeShown = show;
  };
  tick();
  if (endsAt !== null) timers.session = setInterval(tick, 1000);

  const url = portalURL(state.session && state.session.portalURL);
  const frame = $('portal-frame');
  if (!url) {
    removePortal();
  } else if (!frame || frame.dataset.src !== url) {
    removePortal();
    const f = document.createElement('iframe');
    f.id = 'portal-frame';
    f.className = 'portal-frame';
    f.setAttribute('sandbox', PORTAL_SANDBOX);
    f.setAttribute('referrerpolicy', 'no-referrer');
    f.setAttribute('allow', "camera 'none'; microphone 'none'; geolocation 'none'; payment 'none'; usb 'none'");
    f.title = i18n.t('session.portal');
    f.dataset.src = url;
    f.addEventListener('load', onPortalLoad);
    resetNav();
    nav.poll = setInterval(onHistoryGrown, NAV_POLL_MS);
    f.src = url;
    $('portal-holder').appendChild(f);
  } else {
    frame.title = i18n.t('session.portal');
  }

  const warnEnds = state.warning && Number.isFinite(state.warning.endsAt) ? state.warning.endsAt : null;
  if (warnEnds === null) closeWarning();
  else openWarning(warnEnds);
}

// portalURL accepts only an http URL on loopback that is not the UI's own origin (a
// same-origin frame with allow-scripts and allow-same-origin could lift its own sandbox).
function portalURL(s) {
  if (typeof s !== 'string' || s.length > 2048) return '';
  let u;
  try {
    u = new URL(s);
  } catch {
    return '';
  }
  if (u.protocol !== 'http:' || u.hostname !== '127.0.0.1' || u.origin === location.origin ||
      u.username || u.password) return '';
  return u.href;
}

function removePortal() {
  resetNav();
  const f = $('portal-frame');
  if (!f) return;
  f.removeEventListener('load', onPortalLoad);
  f.src = 'about:blank';
  f.remove();
}

// --- Back and Home ------------------------------------------------------------------------

// Back walks the browser's joint session history, which moves the portal frame: the shell
// gives every citizen a browser that has never seen anyone, and this document keeps a single
// entry of its own, so the history behind the frame is this citizen's portal pages and
// nothing else, and Back can never leave the kiosk UI. The portal cannot press it: the
// control acts only on trusted input. Home loads the portal's home page again through the
// session's enter URL.
function goBack() {
  if (nav.behind <= 0 || !$('portal-frame')) return;
  nav.behind--;
  nav.backs++;
  nav.backAt = Date.now();
  updateNav();
  history.back();
}

function goHome() {
  const f = $('portal-frame');
  if (!f || !f.dataset.src) return;
  f.src = f.dataset.src;
}

function onPortalLoad() {
  if (!nav.loaded) {
    nav.loaded = true;
    nav.base = history.length;
  } else if (nav.backs > 0 && Date.now() - nav.backAt < BACK_SETTLE_MS) {
    nav.backs--; // the page a Back went to
  } else {
    nav.backs = 0;
    nav.behind++;
  }
  nav.length = history.length;
  nav.behind = Math.max(0, Math.min(nav.behind, history.length - nav.base));
  updateNav();
}

// onHistoryGrown counts the entries a frame navigation added without a load event. Double
// counting with onPortalLoad is harmless: a new entry is the last, so the cap corrects it
// (TestRealAgentBackHomeAndAttachment failed when the cap ignored the first entry).
function onHistoryGrown() {
  if (!nav.loaded || history.length <= nav.length) return;
  nav.behind += history.length - nav.length;
  nav.length = history.length;
  nav.behind = Math.min(nav.behind, history.length - nav.base);
  updateNav();
}

function resetNav() {
  clearInterval(nav.poll);
  nav.poll = 0;
  nav.behind = 0;
  nav.loaded = false;
  nav.backs = 0;
  nav.backAt = 0;
  nav.length = history.length;
  updateNav();
}

function updateNav() {
  $('session-back').disabled = nav.behind <= 0;
}

function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

function openWarning(endsAt) {
  const dialog = $('idle-warning');
  stopTimer('warning');
  const tick = () => {
    const left = endsAt - Date.now();
    const n = Math.max(0, Math.ceil(left / 1000));
    $('warning-body').textContent = i18n.plural('warning.body', n);
    $('warning-count').textContent = String(n);
    if (lastToneFor !== endsAt && left <= WARNING_TONE_LAST_MS && left > 0) {
      lastToneFor = endsAt;
      tone();
    }
  };
  if (!dialog.open) {
    $('session-time').hidden = true; // one clock: the warning's
    timeShown = false;
    closePrefsPanel();
    tone();
  }
  tick();
  timers.warning = setInterval(tick, 1000);
  if (!dialog.open) {
    warningOpenedAt = Date.now();
    dialog.showModal();
    $('warning-stay').focus();
    announce(`${$('warning-title').textContent} ${$('warning-body').textContent}`, true);
  }
}

// tone sounds a short, soft chime when the kiosk is configured for it (ui.warning_sound).
let audio = null;
let lastToneFor = 0; // the warning (its end) whose last seconds have sounded
function tone() {
  if (!settings.warningSound || typeof AudioContext !== 'function') return;
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 660]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.3, now + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.25 + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.25);
      osc.stop(now + i * 0.25 + 0.25);
    }
  } catch {
    // No audio device: the warning still shows.
  }
}

function closeWarning() {
  stopTimer('warning');
  const dialog = $('idle-warning');
  if (dialog.open) dialog.close();
}

function stopTimer(name) {
  clearTimeout(timers[name]);
  clearInterval(timers[name]);
  timers[name] = 0;
}

// --- wipe --------------------------------------------------------------------------------

// wipe forgets everything of the citizen in this page. The browser around it is the shell's
// business: at a visit's end the agent orders the shell to replace the whole web view and
// its website data with new ones, and this document with it (docs/kiosk-ui.md). Until then
// the page shows nothing of the citizen.
function wipe() {
  pin.clear();
  removePortal();
  closeWarning();
  stopTimer('session');
  $('session-title').textContent = '';
  $('session-time-value').textContent = '';
  $('session-time').hidden = true;
  timeShown = false;
  closePrefsPanel();
  resetPrefs();
}

// --- preferences: language, larger text, high contrast ------------------------------------

function placePrefs(section) {
  const el = $('prefs');
  const slot = section && section.querySelector('.prefs-slot');
  if (slot) {
    if (el.parentElement !== slot) slot.appendChild(el);
    el.hidden = false;
  } else {
    el.hidden = true;
  }
}

function buildLanguageButtons() {
  const holder = $('prefs-languages');
  holder.replaceChildren();
  const langs = i18n.availableLanguages();
  for (const code of langs) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'toggle toggle-language';
    b.lang = code;
    b.dataset.lang = code;
    b.textContent = i18n.t('language.name', {}, code);
    b.addEventListener('click', trusted(() => send({ type: 'language', lang: code })));
    holder.appendChild(b);
  }
  holder.hidden = langs.length < 2;
  updateLanguageButtons();
}

function updateLanguageButtons() {
  for (const b of document.querySelectorAll('.toggle-language')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === i18n.language()));
  }
}

// The display choice belongs to the agent's state (it reaches the portal too): a toggle
// shows the new choice at once and tells the agent, whose next state confirms it.
function choosePref(name) {
  setPref(name, !prefs[name]);
  send({ type: 'display', large_text: prefs.largeText, high_contrast: prefs.highContrast });
}

// showDisplay renders the state's display choice (untrusted: only true counts).
function showDisplay(d) {
  const ok = Boolean(d) && typeof d === 'object';
  setPref('largeText', ok && d.largeText === true);
  setPref('highContrast', ok && d.highContrast === true);
}

function setPref(name, on) {
  prefs[name] = on;
  document.documentElement.classList.toggle('large-text', prefs.largeText);
  document.documentElement.classList.toggle('high-contrast', prefs.highContrast);
  $('pref-large-text').setAttribute('aria-pressed', String(prefs.largeText));
  $('pref-high-contrast').setAttribute('aria-pressed', String(prefs.highContrast));
}

function resetPrefs() {
  setPref('largeText', false);
  setPref('highContrast', false);
}

// The session's display and language choices open in a panel over the portal, so the bar
// stays one row.
function prefsPanelOpen() {
  return !$('session-prefs-panel').hidden;
}

function openPrefsPanel() {
  $('session-prefs-panel').hidden = false;
  $('session-prefs').setAttribute('aria-expanded', 'true');
  const first = $('session-prefs-panel').querySelector('button');
  if (first) first.focus();
}

function closePrefsPanel(refocus = false) {
  const was = prefsPanelOpen();
  $('session-prefs-panel').hidden = true;
  $('session-prefs').setAttribute('aria-expanded', 'false');
  if (was && refocus) $('session-prefs').focus();
}

// --- controls and activity --------------------------------------------------------------

function wireControls() {
  const on = (id, type, handler) => $(id).addEventListener(type, trusted(handler));
  on('pref-large-text', 'click', () => choosePref('largeText'));
  on('pref-high-contrast', 'click', () => choosePref('highContrast'));
  on('session-end', 'click', () => send({ type: 'end_session' }));
  on('session-prefs', 'click', () => (prefsPanelOpen() ? closePrefsPanel(true) : openPrefsPanel()));
  on('session-prefs-panel', 'keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closePrefsPanel(true);
    }
  });
  on('session-back', 'click', goBack);
  on('session-home', 'click', goHome);
  on('error-finish', 'click', () => send({ type: 'cancel' }));
  on('warning-stay', 'click', () => activity(true));
  // Escape on the warning means "I'm still here", never "close the dialog and hide it".
  // The dialog stays open whoever sent the event; only the citizen's Escape is activity.
  $('idle-warning').addEventListener('cancel', (ev) => ev.preventDefault());
  on('idle-warning', 'cancel', () => activity(true));
  for (const type of ['pointerdown', 'keydown', 'touchstart']) {
    document.addEventListener(type, trusted(() => activity(false)), { capture: true, passive: true });
  }
}

// activity tells the agent the citizen is here, at most once a second. "I'm still here"
// also sends when the last report was from before the warning opened.
function activity(stillHere) {
  if (!last || last.phase === 'starting') return;
  const now = Date.now();
  if (now - lastActivity < ACTIVITY_INTERVAL_MS && !(stillHere && lastActivity < warningOpenedAt)) return;
  if (send({ type: 'activity' })) lastActivity = now;
}

// --- announcements ------------------------------------------------------------------------

let announceTimer = 0;

function announce(text, assertive) {
  const region = $(assertive ? 'announce-assertive' : 'announce-polite');
  const other = $(assertive ? 'announce-polite' : 'announce-assertive');
  clearTimeout(announceTimer);
  region.textContent = '';
  other.textContent = '';
  // A short gap makes screen readers announce a text equal to the previous one.
  announceTimer = setTimeout(() => {
    region.textContent = text;
  }, 100);
}

main();
