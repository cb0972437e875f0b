// The browser half of nbaudio.widgets.Captions (an anywidget ES module; mic.js comes first).
//
// Route: microphone → this page → the kernel (widget messages) → a Realtime transcription session,
// and the words back. Microphone audio goes to the kernel as for a live conversation (mic.js's
// kernelMicrophone, as live.js), with the same pause when the kernel falls behind. The kernel sends
// each turn's line: its words so far (provisional: grey) and then its final text (black; with
// translation, the English line). Lines scroll like subtitles: the newest at the bottom, the oldest
// leaving at the top.

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
  const mic = kernelMicrophone({
    model, prefix: "captions", stats, level, startBtn, status, timer, publish, showError, setState,
    getState: () => state,
    constraints: { channelCount: 1, echoCancellation: false, noiseSuppression: true, autoGainControl: true },
    stopTitle: "stop; the transcript replaces this widget",
    // While the session opens the kernel takes nothing yet: keep sending (it queues what comes
    // before the session is ready), up to CONNECTING_S, so the first words are not lost.
    behindS: () => (state === "connecting" ? CONNECTING_S : BEHIND_S),
    stamp: () => ({ t: Date.now() }),
  });

  model.on("msg:custom", (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "line") showLine(msg.item_id || "", msg.text || "", !!msg.final, msg.hop);
    else mic.take(msg);
    publish();
  });

  return mic.shown(showSavedView);
}

export default { render };
