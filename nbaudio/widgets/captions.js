// The browser half of nbaudio.widgets.Captions (an anywidget ES module; mic.js comes first).
//
// Route: microphone → this page → the kernel (widget messages) → a Realtime transcription session,
// and the words back. Microphone audio goes to the kernel as 16-bit PCM at the device rate, 50 ms
// at a time, as for a live conversation (live.js), with the same pause when the kernel falls
// behind. The kernel sends each turn's line: its words so far (provisional: grey) and then its
// final text (black; with translation, the English line). Lines scroll like subtitles: the
// newest at the bottom, the oldest leaving at the top.

const PIECE_S = 0.05;
const BEHIND_S = 1.5;
const CONNECTING_S = 30;

const STATES = {
  idle: ["#9e9e9e", "not started"],
  connecting: ["#f2a900", "connecting…"],
  listening: ["#54a24b", "captioning"],
  paused: ["#f2a900", "paused: a cell is running"],
  stopping: ["#9e9e9e", "finishing the last lines…"],
  stopped: ["#9e9e9e", "stopped"],
};

function render({ model, el }) {
  const showSavedView = hideSavedView(model);
  const root = element("div", "nbaudio-captions",
                       "font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;margin:4px 0;max-width:760px");
  const row = element("div", "", "display:flex;align-items:center;gap:10px;flex-wrap:wrap");
  const startBtn = button("▶ Start", "start captioning the microphone (asks for it)");
  startBtn.className = "nbaudio-captions-start";
  const level = levelMeter("nbaudio-captions-meter", 110);
  const dot = element("span", "", "display:inline-block;width:10px;height:10px;border-radius:50%;background:#9e9e9e");
  const stateText = element("span", "nbaudio-captions-state", "color:#444");
  const timer = element("span", "nbaudio-captions-time", "font-variant-numeric:tabular-nums;color:#777");
  row.append(startBtn, level.meter, dot, stateText, timer);
  const { status, error } = messageLines("nbaudio-captions");
  const screen = element("div", "nbaudio-captions-lines",
                         "margin-top:6px;height:7.5em;overflow-y:auto;padding:6px 10px;border-radius:6px;" +
                         "background:#f7f7f7;border:1px solid #e3e3e3;font-size:17px;line-height:1.45");
  const note = element("div", "", "color:#888;font-size:11px;margin-top:4px");
  note.textContent = "Grey words may still change; black ones are final. ■ Stop turns this into the transcript.";
  root.append(row, status, error, screen, note);
  el.append(root);

  // stats, for the figures and the tests (also as root.dataset.stats). shown: [item_id, words on
  // screen, seconds of microphone audio captured when they appeared, final?] each time a line changed.
  // hops, for the benchmark's breakdown of the lag, beside each `shown`: [the page's clock (ms, Date.now()),
  // the kernel's when it had the line, seconds of audio the kernel had sent the server by then, ms
  // from the page sending the latest piece of audio to the kernel sending it on].
  const stats = { micSeconds: 0, sentPieces: 0, acked: -1, lines: 0, shown: [], hops: [] };
  const lines = new Map();  // item_id → {line, final, provisional}
  let s = null;
  let state = "idle";

  function setState(name) {
    state = name;
    const [color, text] = STATES[name] || STATES.idle;
    dot.style.background = color;
    stateText.textContent = text;
    root.dataset.state = name;
  }
  function publish() { root.dataset.stats = JSON.stringify(stats); }
  function showError(text) { error.textContent = text || ""; }

  function showLine(itemId, text, final, hop) {
    let l = lines.get(itemId);
    if (!l) {
      l = { line: element("div", "nbaudio-captions-line", "margin:1px 0") };
      lines.set(itemId, l);
      screen.append(l.line);
      stats.lines = lines.size;
    }
    l.line.textContent = text || (final ? "" : "…");
    l.line.style.color = final ? "#111" : "#8a8a8a";
    l.line.classList.toggle("nbaudio-captions-final", !!final);
    l.line.dataset.itemId = itemId;
    const words = (text || "").split(/\s+/).filter(Boolean).length;
    stats.shown.push([itemId, words, Math.round(stats.micSeconds * 1000) / 1000, !!final]);
    stats.hops.push(hop ? [Date.now(), hop.at, hop.sent, hop.wait] : null);
    screen.scrollTop = screen.scrollHeight;
  }

  // ---- the microphone ----------------------------------------------------------------------------
  function sendPiece() {
    if (!s || !s.pendingFrames) return;
    const pcm = new Int16Array(s.pendingFrames);
    let o = 0;
    for (const p of s.pending) { pcm.set(p, o); o += p.length; }
    s.pending = []; s.pendingFrames = 0;
    model.send({ type: "captions:audio", seq: s.seq++, t: Date.now() }, undefined, [pcm.buffer]);
    stats.sentPieces = s.seq;
  }

  function onBlock(data) {
    if (!s || s.closing) return;
    level.show(data.peak);
    // While the session opens the kernel takes nothing yet: keep sending (it queues what comes
    // before the session is ready), up to CONNECTING_S, so the first words are not lost.
    const behind = (s.seq - 1 - s.acked) * PIECE_S;
    if (behind > (state === "connecting" ? CONNECTING_S : BEHIND_S)) {
      if (state !== "paused") { s.before = state; setState("paused"); }
      s.pending = []; s.pendingFrames = 0;
      return;
    }
    if (state === "paused") setState(s.before || "listening");
    const pcm = toInt16(data.pcm);
    s.pending.push(pcm);
    s.pendingFrames += pcm.length;
    stats.micSeconds += pcm.length / s.rate;
    if (s.pendingFrames >= PIECE_S * s.rate) sendPiece();
  }

  function tick() {
    if (!s) return;
    timer.textContent = clock((performance.now() - s.began) / 1000) + " / " + clock(60 * model.get("max_minutes"));
    publish();
  }

  async function start() {
    const problem = pageProblem();
    if (problem) { showError(problem); return; }
    showError("");
    startBtn.disabled = true;
    status.textContent = "asking for the microphone…";
    try {
      const mic = await openMicrophone({ channelCount: 1, echoCancellation: false, noiseSuppression: true,
                                         autoGainControl: true });
      s = { ...mic, rate: mic.ctx.sampleRate, seq: 0, acked: -1, pending: [], pendingFrames: 0,
            began: performance.now(), closing: false };
      mic.node.port.onmessage = (e) => { if (e.data && e.data.pcm) onBlock(e.data); };
      for (const track of mic.stream.getAudioTracks()) track.addEventListener("ended", () => stop("microphone"));
      s.timer = setInterval(tick, 250);
      setState("connecting");
      status.textContent = "connecting to the Realtime API through the kernel…";
      model.send({ type: "captions:start", rate: s.rate });
      startBtn.textContent = "■ Stop";
      startBtn.title = "stop; the transcript replaces this widget";
      startBtn.style.background = "#fde8e8";
    } catch (err) {
      s = null;
      status.textContent = "";
      showError(micProblem(err, "▶ Start"));
      setState("idle");
    } finally {
      startBtn.disabled = false;
    }
  }

  function teardown() {
    if (!s) return;
    const r = s;
    r.closing = true;
    clearInterval(r.timer);
    r.stream.getTracks().forEach((t) => t.stop());
    r.ctx.close();
    s = null;
    level.clear();
    startBtn.disabled = true;
    startBtn.textContent = "▶ Start";
    startBtn.style.background = "#fafafa";
    publish();
  }

  function stop(reason) {
    if (!s || s.closing) return;
    sendPiece();
    teardown();
    setState("stopping");
    model.send({ type: "captions:stop", reason });
  }

  startBtn.addEventListener("click", () => { if (s) stop("user"); else start(); });

  model.on("msg:custom", (msg) => {
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "ready":
        if (s) { setState("listening"); status.textContent = msg.text || ""; }
        break;
      case "ack":
        if (s) { s.acked = msg.seq; stats.acked = msg.seq; }
        break;
      case "line":
        showLine(msg.item_id || "", msg.text || "", !!msg.final, msg.hop);
        break;
      case "error":
        showError(msg.text || "");
        break;
      case "ended":
        teardown();
        setState("stopped");
        status.textContent = msg.text || "";
        if (msg.error) showError(msg.error);
        break;
    }
    publish();
  });

  setState(model.get("ended") ? "stopped" : "idle");
  showError(model.get("error"));
  if (model.get("ended")) startBtn.disabled = true;
  else {
    const problem = pageProblem();
    if (problem) showError(problem);
  }
  publish();
  return () => { if (s) stop("page"); showSavedView(); };
}

export default { render };
