// What the browser halves of the microphone widgets share (nbaudio.widgets.Recorder, LiveSession and
// Captions): the capture worklet, the page and permission checks with messages that say what to do,
// small helpers, and for the live widgets the microphone streamed to the kernel (kernelMicrophone).
// nbaudio/widgets/esm.py puts this file in front of each widget's module.

const WORKLET = `
class NbaudioCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(Math.max(128, Math.round(sampleRate / 20)));
    this.n = 0; this.peak = 0; this.live = true;
    this.port.onmessage = (e) => {
      if (e.data === "stop") { this.flush(); this.live = false; this.port.postMessage({ done: true }); }
    };
  }
  flush() {
    if (!this.n) return;
    const pcm = this.block.slice(0, this.n);
    this.port.postMessage({ pcm, peak: this.peak }, [pcm.buffer]);
    this.n = 0; this.peak = 0;
  }
  process(inputs) {
    if (!this.live) return false;
    const chans = inputs[0];
    if (chans && chans.length) {
      const frames = chans[0].length, k = chans.length;
      for (let i = 0; i < frames; i++) {
        let v = 0;
        for (let c = 0; c < k; c++) v += chans[c][i];
        v /= k;
        this.block[this.n++] = v;
        const a = v < 0 ? -v : v;
        if (a > this.peak) this.peak = a;
        if (this.n === this.block.length) this.flush();
      }
    }
    return true;
  }
}
registerProcessor("nbaudio-capture", NbaudioCapture);
`;

function clock(t) {
  const m = Math.floor(t / 60), s = t - 60 * m;
  return m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
}

function toInt16(f) {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = f[i] > 1 ? 1 : f[i] < -1 ? -1 : f[i];
    out[i] = v < 0 ? v * 32768 : v * 32767;
  }
  return out;
}

// Why the microphone cannot be used on this page, or "" when it can.
function pageProblem() {
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return "The microphone only works on a secure page, and this one (" + location.origin + ") is not. " +
      "Open Jupyter over https://, or at http://localhost or http://127.0.0.1 " +
      "(for a remote server, through an SSH tunnel: ssh -L 8888:localhost:8888 HOST).";
  }
  if (!window.AudioContext || !window.AudioWorkletNode) {
    return "This browser cannot capture audio (no AudioWorklet). Use a current Chrome, Edge, Firefox or Safari.";
  }
  return "";
}

// `again`: what to press to try again (the widget's button).
function micProblem(err, again) {
  again = again || "Record";
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "Microphone permission was denied. Allow the microphone for this site (the icon at the left of the " +
      "address bar, or the browser's site settings), then press " + again + " again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "No microphone was found. Connect one (or choose an input device in the system settings) and press " + again + " again.";
  }
  if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") {
    return "The microphone could not be opened; another application may be using it. Close that and press " + again + " again.";
  }
  return "Could not open the microphone: " + ((err && err.message) || String(err));
}

function button(label, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  b.style.cssText = "padding:3px 12px;border:1px solid #bbb;border-radius:14px;background:#fafafa;cursor:pointer;font:inherit";
  return b;
}

// The microphone through the capture worklet: {stream, ctx, node}; node.port gets {pcm, peak} blocks
// of 50 ms at ctx.sampleRate. The worklet feeds a muted gain so the graph runs without being heard.
async function openMicrophone(constraints) {
  let stream = null, ctx = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: constraints || { channelCount: 1 } });
    ctx = new AudioContext();
    const url = URL.createObjectURL(new Blob([WORKLET], { type: "text/javascript" }));
    try { await ctx.audioWorklet.addModule(url); } finally { URL.revokeObjectURL(url); }
    const source = ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(ctx, "nbaudio-capture");
    const mute = ctx.createGain();
    mute.gain.value = 0;
    source.connect(node); node.connect(mute); mute.connect(ctx.destination);
    if (ctx.state === "suspended") await ctx.resume();
    return { stream, ctx, node };
  } catch (err) {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (ctx) ctx.close();
    throw err;
  }
}

function element(tag, className, css) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (css) e.style.cssText = css;
  return e;
}

// A microphone level meter: `meter` to place, `show(peak)` for each block, `clear()`.
function levelMeter(className, widthPx) {
  const meter = element("div", className,
                        "width:" + widthPx + "px;height:8px;background:#e6e6e6;border-radius:4px;overflow:hidden");
  meter.title = "microphone level";
  const level = element("div", "", "height:100%;width:0;background:#54a24b;transition:width 60ms linear");
  meter.append(level);
  return {
    meter,
    show(peak) {
      level.style.width = Math.min(100, Math.round(100 * Math.sqrt(peak))) + "%";
      level.style.background = peak > 0.95 ? "#e45756" : "#54a24b";  // red: clipping
    },
    clear() { level.style.width = "0"; },
  };
}

// The grey status line and the red error line under a widget's controls.
function messageLines(prefix) {
  const status = element("div", prefix + "-status", "color:#666;margin-top:4px");
  const error = element("div", prefix + "-error", "color:#b00020;margin-top:4px;white-space:pre-wrap");
  error.setAttribute("role", "alert");
  return { status, error };
}

// ---- the live widgets (LiveSession, Captions): the microphone streamed to the kernel -------------
// 16-bit PCM at the device rate, a piece every PIECE_S (each capture block as it comes: 100 ms pieces
// made the server hear the end of a turn 50 ms later on average), as `<prefix>:audio` messages
// numbered from 0. The kernel acknowledges ("ack") the last piece it took several times a second;
// where widget messages wait for a running cell to end, the acknowledgements fall behind, and past
// BEHIND_S of unacknowledged audio the page drops the audio and shows "paused" (instead of piling up
// audio that would reach the server late) until they catch up.
const PIECE_S = 0.05;
const BEHIND_S = 1.5;

// `w`, the widget: model, prefix (its messages' "prefix:kind"), stats, level (levelMeter), startBtn,
// status, timer, getState(), setState(name), showError(text), publish(), constraints (getUserMedia's),
// stopTitle (the start button's title while running), and hooks, each optional:
//   session(s): the running session changed (null when it ends); extra(): more fields for it;
//   heard(data): a capture block came; false drops it; behindS(): the pause threshold (BEHIND_S);
//   stamp(seq): more fields for audio message seq; ticked(), started(), closing(s), closed(), stopping().
// Returns sendPiece(), start(), teardown(), stop(reason), take(msg) (the kernel's "ready", "ack",
// "error" and "ended"; true when it took the message) and shown(showSavedView) (the first state;
// returns the widget's cleanup).
function kernelMicrophone(w) {
  const hook = (name, ...args) => (w[name] ? w[name](...args) : undefined);
  let s = null;
  function use(value) { s = value; hook("session", s); }

  function sendPiece() {
    if (!s || !s.pendingFrames) return;
    const pcm = new Int16Array(s.pendingFrames);
    let o = 0;
    for (const p of s.pending) { pcm.set(p, o); o += p.length; }
    s.pending = []; s.pendingFrames = 0;
    const seq = s.seq++;
    w.model.send({ type: w.prefix + ":audio", seq, ...hook("stamp", seq) }, undefined, [pcm.buffer]);
    w.stats.sentPieces = s.seq;
  }

  function onBlock(data) {
    if (!s || s.closing) return;
    w.level.show(data.peak);
    if (hook("heard", data) === false) return;
    const behind = (s.seq - 1 - s.acked) * PIECE_S;
    if (behind > (w.behindS ? w.behindS() : BEHIND_S)) {
      if (w.getState() !== "paused") { s.before = w.getState(); w.setState("paused"); }
      s.pending = []; s.pendingFrames = 0;
      return;
    }
    if (w.getState() === "paused") w.setState(s.before || "listening");
    const pcm = toInt16(data.pcm);
    s.pending.push(pcm);
    s.pendingFrames += pcm.length;
    w.stats.micSeconds += pcm.length / s.rate;
    if (s.pendingFrames >= PIECE_S * s.rate) sendPiece();
  }

  function tick() {
    if (!s) return;
    w.timer.textContent = clock((performance.now() - s.began) / 1000) + " / " + clock(60 * w.model.get("max_minutes"));
    hook("ticked");
    w.publish();
  }

  async function start() {
    const problem = pageProblem();
    if (problem) { w.showError(problem); return; }
    w.showError("");
    w.startBtn.disabled = true;
    w.status.textContent = "asking for the microphone…";
    try {
      const mic = await openMicrophone(w.constraints);
      use({ ...mic, rate: mic.ctx.sampleRate, seq: 0, acked: -1, pending: [], pendingFrames: 0,
            began: performance.now(), closing: false, ...hook("extra") });
      mic.node.port.onmessage = (e) => { if (e.data && e.data.pcm) onBlock(e.data); };
      for (const track of mic.stream.getAudioTracks()) track.addEventListener("ended", () => stop("microphone"));
      s.timer = setInterval(tick, 250);
      w.setState("connecting");
      w.status.textContent = "connecting to the Realtime API through the kernel…";
      w.model.send({ type: w.prefix + ":start", rate: s.rate });
      w.startBtn.textContent = "■ Stop";
      w.startBtn.title = w.stopTitle;
      w.startBtn.style.background = "#fde8e8";
      hook("started");
    } catch (err) {
      use(null);
      w.status.textContent = "";
      w.showError(micProblem(err, "▶ Start"));
      w.setState("idle");
    } finally {
      w.startBtn.disabled = false;
    }
  }

  function teardown() {
    if (!s) return;
    const r = s;
    r.closing = true;
    clearInterval(r.timer);
    hook("closing", r);
    r.stream.getTracks().forEach((t) => t.stop());
    r.ctx.close();
    use(null);
    w.level.clear();
    hook("closed");
    w.startBtn.disabled = true;
    w.startBtn.textContent = "▶ Start";
    w.startBtn.style.background = "#fafafa";
    w.publish();
  }

  function stop(reason) {
    if (!s || s.closing) return;
    sendPiece();
    hook("stopping");
    teardown();
    w.setState("stopping");
    w.model.send({ type: w.prefix + ":stop", reason });
  }

  function take(msg) {
    switch (msg.type) {
      case "ready":
        if (s) { w.setState("listening"); w.status.textContent = msg.text || ""; }
        return true;
      case "ack":
        if (s) { s.acked = msg.seq; w.stats.acked = msg.seq; }
        return true;
      case "error":
        w.showError(msg.text || "");
        return true;
      case "ended":
        teardown();
        w.setState("stopped");
        w.status.textContent = msg.text || "";
        if (msg.error) w.showError(msg.error);
        return true;
    }
    return false;
  }

  function shown(showSavedView) {
    w.setState(w.model.get("ended") ? "stopped" : "idle");
    w.showError(w.model.get("error"));
    if (w.model.get("ended")) w.startBtn.disabled = true;
    else {
      const problem = pageProblem();
      if (problem) w.showError(problem);  // say it before anyone presses Start
    }
    w.publish();
    return () => { if (s) stop("page"); showSavedView(); };
  }

  w.startBtn.addEventListener("click", () => { if (s) stop("user"); else start(); });
  return { sendPiece, start, teardown, stop, take, shown };
}
