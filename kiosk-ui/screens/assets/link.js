// The control link to kiosk-agent (docs/ui-protocol.md, version 1): one websocket,
// one JSON text frame per message, at most 4096 bytes. It reconnects with backoff when the
// agent goes away.

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 4096;

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;

// takeToken reads the per-boot token from the address fragment (#token=…) and removes it
// from the address bar, so it is not left in history or shown.
export function takeToken() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token') || '';
  if (location.hash) {
    history.replaceState(null, '', location.pathname + location.search);
  }
  return token;
}

// reloadWithToken reloads the page (after a protocol version change) keeping the token,
// which the reloaded page removes from the address bar again.
export function reloadWithToken(token) {
  history.replaceState(null, '', `${location.pathname}${location.search}#token=${encodeURIComponent(token)}`);
  location.reload();
}

export class Link {
  // handlers: onOpen(), onMessage(msg), onClose()
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.ws = null;
    this.backoff = BACKOFF_MIN_MS;
    this.timer = 0;
    this.stopped = false;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws?token=${encodeURIComponent(this.token)}`;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  connect() {
    clearTimeout(this.timer);
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.backoff = BACKOFF_MIN_MS;
      this.handlers.onOpen();
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string' || ev.data.length > MAX_MESSAGE_BYTES) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return;
      this.handlers.onMessage(msg);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.handlers.onClose();
      this.retry();
    });
  }

  retry() {
    if (this.stopped) return;
    // Full jitter keeps several restarts from hammering the agent in step.
    const wait = Math.round(this.backoff / 2 + Math.random() * this.backoff / 2);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  // send sends one message if the link is open; it returns whether it was sent.
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...msg }));
    return true;
  }
}
