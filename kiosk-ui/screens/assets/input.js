// Input from the citizen. Every handler of the trusted chrome and the PIN pad goes through
// trusted(): an event a script made (dispatchEvent, element.click()) is not the citizen and
// is dropped, so no script, whatever origin it came from, can press a key, end a session,
// keep one alive or type a PIN (docs/security.md, invariant 1).

// trusted wraps an event handler so that it runs only for events the browser made from
// real input.
export function trusted(handler) {
  return (ev) => {
    if (ev && ev.isTrusted === true) handler(ev);
  };
}
