// The browser half of nbaudio.widgets.Recorder (an anywidget ES module; mic.js comes first).
//
// The microphone goes through an AudioWorklet that mixes it to mono and hands back 50 ms blocks of
// float samples at the device rate. They are sent to the kernel as 16-bit PCM in binary buffers
// every half second while recording (so no one websocket message gets large and a forgotten
// recording is cut at max_seconds), then "rec:stop" with the frame and chunk counts so the kernel
// can tell a complete recording from a damaged one. The kernel resamples and builds the WAV; the
// preview here is a WAV made from the same samples.

const SEND_EVERY_S = 0.5;

function concat(parts, n) {
  const out = new Int16Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function wavBlob(parts, frames, rate) {
  const buf = new ArrayBuffer(44 + 2 * frames), v = new DataView(buf);
  const tag = (o, s) => { for (let i = 0; i < 4; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  tag(0, "RIFF"); v.setUint32(4, 36 + 2 * frames, true); tag(8, "WAVE"); tag(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true); v.setUint32(24, rate, true);
  v.setUint32(28, 2 * rate, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  tag(36, "data"); v.setUint32(40, 2 * frames, true);
  new Int16Array(buf, 44, frames).set(concat(parts, frames));
  return new Blob([buf], { type: "audio/wav" });
}

function render({ model, el }) {
  const showSavedView = hideSavedView(model);
  const root = document.createElement("div");
  root.className = "nbaudio-recorder";
  root.style.cssText = "font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;margin:4px 0";
  const row = document.createElement("div");
  row.style.cssText = "display:flex;align-items:center;gap:10px;flex-wrap:wrap";
  const recordBtn = button("● Record", "start recording from the microphone");
  recordBtn.className = "nbaudio-rec-button";
  const clearBtn = button("Clear", "forget this recording");
  clearBtn.className = "nbaudio-rec-clear";
  const level = levelMeter("nbaudio-rec-meter", 140);
  const time = element("span", "nbaudio-rec-time", "font-variant-numeric:tabular-nums;color:#555");
  row.append(recordBtn, level.meter, time, clearBtn);
  const { status, error } = messageLines("nbaudio-rec");
  const preview = document.createElement("audio");
  preview.className = "nbaudio-rec-preview";
  preview.controls = true;
  preview.style.cssText = "display:none;height:32px;margin-top:4px;max-width:100%";
  root.append(row, status, error, preview);
  el.append(root);

  let rec = null;  // the recording in progress (until the kernel has all of it)
  let previewUrl = "";

  const limit = () => model.get("max_seconds");
  function idleTime(seconds) { time.textContent = clock(seconds) + " / " + clock(limit()); }
  function showError() {
    error.textContent = model.get("error") || "";
    error.style.display = error.textContent ? "" : "none";
  }
  function showStatus() {
    if (!rec) status.textContent = model.get("status") || "";
    clearBtn.style.display = model.get("status") || previewUrl ? "" : "none";
  }
  function setError(text) {
    model.set("error", text);
    model.save_changes();
    showError();
  }
  function setPreview(blob) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = blob ? URL.createObjectURL(blob) : "";
    preview.src = previewUrl;
    preview.style.display = previewUrl ? "" : "none";
    if (!previewUrl) preview.removeAttribute("src");
  }

  function sendPending() {
    if (!rec || !rec.pendingFrames) return;
    const pcm = concat(rec.pending, rec.pendingFrames);
    rec.pending = []; rec.pendingFrames = 0;
    model.send({ type: "rec:chunk", id: rec.id, seq: rec.seq++ }, undefined, [pcm.buffer]);
  }

  function onBlock(data) {
    if (!rec || rec.done) return;
    const pcm = toInt16(data.pcm);
    const room = Math.max(0, Math.floor(limit() * rec.rate) - rec.frames);
    const part = pcm.length > room ? pcm.subarray(0, room) : pcm;
    if (!part.length) return;
    rec.parts.push(part); rec.pending.push(part);
    rec.frames += part.length; rec.pendingFrames += part.length;
    level.show(data.peak);
    time.textContent = clock(rec.frames / rec.rate) + " / " + clock(limit());
    if (rec.pendingFrames >= SEND_EVERY_S * rec.rate) sendPending();
    if (rec.frames >= limit() * rec.rate) stop("limit");
  }

  async function start() {
    const problem = pageProblem();
    if (problem) { setError(problem); return; }
    setError("");
    recordBtn.disabled = true;
    status.textContent = "asking for the microphone…";
    try {
      const { stream, ctx, node } = await openMicrophone({ channelCount: 1 });
      const id = Math.random().toString(36).slice(2) + Date.now().toString(36);
      const r = rec = { id, ctx, stream, node, rate: ctx.sampleRate, parts: [], pending: [], frames: 0, pendingFrames: 0,
                        seq: 0 };
      node.port.onmessage = (e) => {
        if (e.data && e.data.pcm) onBlock(e.data);
        else if (e.data && e.data.done && r.flushed) r.flushed();
      };
      for (const track of stream.getAudioTracks()) track.addEventListener("ended", () => stop("ended"));
      model.send({ type: "rec:start", id, rate: rec.rate });
      setPreview(null);
      recordBtn.textContent = "■ Stop";
      recordBtn.title = "stop recording and send it to the kernel";
      recordBtn.style.background = "#fde8e8";
      status.textContent = "recording…";
    } catch (err) {
      status.textContent = "";
      setError(micProblem(err));
    } finally {
      recordBtn.disabled = false;
    }
  }

  function stop(reason) {
    if (!rec || rec.stopping) return;
    const r = rec;
    r.stopping = true;
    recordBtn.disabled = true;
    // The worklet answers "done" after its last block (port messages keep their order).
    new Promise((resolve) => {
      r.flushed = resolve;
      r.node.port.postMessage("stop");
      setTimeout(resolve, 1000);  // a context that stopped running never answers
    }).then(() => {
      if (r.done) return;
      r.done = true;
      r.stream.getTracks().forEach((t) => t.stop());
      r.ctx.close();
      sendPending();
      model.send({ type: "rec:stop", id: r.id, frames: r.frames, chunks: r.seq, rate: r.rate, reason });
      if (r.frames) setPreview(wavBlob(r.parts, r.frames, r.rate));
      rec = null;
      level.clear();
      recordBtn.disabled = false;
      recordBtn.textContent = "● Record";
      recordBtn.title = "record again (replaces this recording)";
      recordBtn.style.background = "#fafafa";
      status.textContent = reason === "limit" ? "stopped at the " + clock(limit()) + " limit; sending…" : "sending…";
      clearBtn.style.display = "";
    });
  }

  recordBtn.addEventListener("click", () => {
    if (rec) stop("user"); else start();
  });
  clearBtn.addEventListener("click", () => {
    if (rec) return;
    setPreview(null);
    idleTime(0);
    model.send({ type: "rec:clear" });
  });
  model.on("change:error", showError);
  model.on("change:status", showStatus);
  model.on("change:max_seconds", () => { if (!rec) idleTime(0); });
  model.on("msg:custom", (msg) => {
    if (msg && msg.type === "clear" && !rec) { setPreview(null); idleTime(0); showStatus(); }
  });
  idleTime(model.get("duration") || 0);
  showError();
  showStatus();
  if (!model.get("error")) {
    const problem = pageProblem();
    if (problem) setError(problem);  // say it now, before anyone presses Record
  }
  return () => {
    if (rec) stop("closed");
    setPreview(null);
    showSavedView();
  };
}

export default { render };
