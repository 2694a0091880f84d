// PIN entry. The digits live only in this module's array: never in an input's value, the
// DOM, storage or a log. The array is zeroed right after the PIN is sent and whenever the
// state changes.

import { t, plural } from './i18n.js';
import { trusted } from './input.js';

const DEFAULT_MIN = 6;
const DEFAULT_MAX = 8;

let digits = [];
let min = DEFAULT_MIN;
let max = DEFAULT_MAX;
let sent = false;
let submit = () => {};
let cancel = () => {};
let announce = () => {};

const $ = (id) => document.getElementById(id);

// clear zeroes the digits (overwriting the array's slots before dropping them).
export function clear() {
  digits.fill('0');
  digits.length = 0;
  sent = false;
  if ($('pin-dots')) render();
}

// setup wires the keypad once. onSubmit receives the PIN string to send.
export function setup({ onSubmit, onCancel, onAnnounce }) {
  submit = onSubmit;
  cancel = onCancel;
  announce = onAnnounce;
  for (const key of document.querySelectorAll('#screen-pin [data-digit]')) {
    key.addEventListener('click', trusted((ev) => { add(key.dataset.digit); tapped(ev); }));
  }
  $('pin-delete').addEventListener('click', trusted((ev) => { remove(); tapped(ev); }));
  $('pin-ok').addEventListener('click', trusted(ok));
  $('pin-cancel').addEventListener('click', trusted(() => cancel()));
  document.addEventListener('keydown', trusted(onKey));
}

// show updates the PIN screen from the state's pin object (untrusted: bounded here).
export function show(pin, { changed }) {
  if (changed) clear();
  const p = pin && typeof pin === 'object' ? pin : {};
  min = intIn(p.min, 1, 16, DEFAULT_MIN);
  max = intIn(p.max, min, 16, Math.max(min, DEFAULT_MAX));
  $('pin-hint').textContent = t('pin.hint', { min, max });
  const tries = p.triesLeft === null || p.triesLeft === undefined ? null : intIn(p.triesLeft, 0, 99, null);
  const message = $('pin-message');
  if (p.wrong === true) {
    message.textContent = tries === null ? t('pin.wrongUnknown') : plural('pin.wrong', tries);
    message.hidden = false;
  } else {
    message.textContent = '';
    message.hidden = true;
  }
  $('pin-tries').textContent = tries === null ? '' : plural('pin.triesLeft', tries);
  $('pin-tries').hidden = tries === null || p.wrong === true;
  render();
  return message.hidden ? '' : message.textContent;
}

function intIn(v, lo, hi, dflt) {
  return Number.isInteger(v) && v >= lo && v <= hi ? v : dflt;
}

function active() {
  return document.body.dataset.phase === 'pin' && !document.getElementById('idle-warning').open;
}

function add(d) {
  if (sent || !/^[0-9]$/.test(d) || digits.length >= max) return;
  digits.push(d);
  render();
}

function remove() {
  if (sent || digits.length === 0) return;
  digits[digits.length - 1] = '0';
  digits.pop();
  render();
}

function ok() {
  if (sent) return;
  if (digits.length < min) {
    announce(plural('pin.tooShort', min), true);
    return;
  }
  const pinText = digits.join('');
  clear();
  sent = true;
  submit(pinText);
}

// tapped moves the focus from a keypad key pressed with a pointer (a tap or a click, not
// the keyboard) to the PIN field, so that a keyboard's Enter afterwards submits the PIN
// instead of pressing that key again.
function tapped(ev) {
  if (ev.detail > 0) $('pin-field').focus({ preventScroll: true });
}

// onKey takes digits, Backspace and Enter typed anywhere on the PIN screen for the PIN: a
// digit typed while another control has the focus (a language button the citizen just
// chose, a keypad key) moves the focus to the PIN field, so the Enter after it submits the
// PIN. Enter on a control the citizen moved to with Tab still presses that control.
function onKey(ev) {
  if (!active() || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const field = $('pin-field');
  if (/^[0-9]$/.test(ev.key)) {
    ev.preventDefault();
    field.focus({ preventScroll: true });
    add(ev.key);
  } else if (ev.key === 'Backspace' || ev.key === 'Delete') {
    ev.preventDefault();
    field.focus({ preventScroll: true });
    remove();
  } else if (ev.key === 'Enter' && !(ev.target instanceof HTMLButtonElement)) {
    // On a focused button Enter presses that button, as everywhere else.
    ev.preventDefault();
    ok();
  } else if (ev.key === 'Escape') {
    ev.preventDefault();
    cancel();
  }
}

function render() {
  const dots = $('pin-dots');
  const n = digits.length;
  // Empty slots up to the minimum length show how many digits are expected.
  const slots = Math.max(n, min);
  const frag = document.createDocumentFragment();
  for (let i = 0; i < slots; i++) {
    const s = document.createElement('span');
    s.className = i < n ? 'dot dot-filled' : 'dot';
    frag.appendChild(s);
  }
  dots.replaceChildren(frag);
  $('pin-count').textContent = plural('pin.entered', n);
}
