// The browser half of nbaudio.widgets.LiveSession (an anywidget ES module; mic.js comes first).
//
// Route: microphone → this page → the kernel (widget messages) → the Realtime server, and back.
// The page never talks to the server and never sees the key. Microphone audio goes to the kernel as
// 16-bit PCM at the device rate in binary buffers, 50 ms at a time (the kernel resamples to the
// 24 kHz the API takes). The model's audio comes back as pcm16 at 24 kHz and is played through Web
// Audio: each piece is an AudioBuffer scheduled right after the one before, so playback is gapless
// however the pieces arrive. For every reply item the page knows which piece started when, so on a
// barge-in (the server says the user started speaking) it stops at once and tells the kernel how
// many milliseconds of that item were really heard; the kernel sends conversation.item.truncate.
//
// Where widget messages wait for a running cell to end (no kernel subshells for comms), the kernel
// cannot take the microphone meanwhile: the page pauses, as mic.js's kernelMicrophone says.

const LEAD_S = 0.03;          // a reply's first piece starts this far ahead: the pieces after it come in the
                              // same burst (the first phrase is spoken whole), a few ms later
const SOUND_LEVEL = 0.02;     // a block with a peak this loud counts as the user's voice (latency figure)
const OUTPUT_RATE = 24000;    // the Realtime API's pcm16

const STATES = {
  idle: ["#9e9e9e", "not started"],
  connecting: ["#f2a900", "connecting…"],
  listening: ["#54a24b", "listening"],
  hearing: ["#4c78a8", "hearing you"],
  thinking: ["#b279a2", "thinking…"],
  speaking: ["#e45756", "speaking"],
  paused: ["#f2a900", "paused: a cell is running"],
  stopping: ["#9e9e9e", "stopping…"],
  stopped: ["#9e9e9e", "stopped"],
};

function pcmFrom(buffer) {
  // Widget buffers arrive as DataView or ArrayBuffer; copy out so the Int16Array is aligned.
  const view = buffer instanceof DataView ? buffer : new DataView(buffer.buffer || buffer);
  return new Int16Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

function render({ model, el }) {
  const showSavedView = hideSavedView(model);
  const root = document.createElement("div");
  root.className = "nbaudio-live";
  root.style.cssText = "font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;margin:4px 0;max-width:760px";
  const row = document.createElement("div");
  row.style.cssText = "display:flex;align-items:center;gap:10px;flex-wrap:wrap";
  const startBtn = button("▶ Start", "start the live conversation (asks for the microphone)");
  startBtn.className = "nbaudio-live-start";
  const talkBtn = button("● Talk", "manual turns: press, speak, press again to send");
  talkBtn.className = "nbaudio-live-talk";
  talkBtn.style.display = "none";
  const level = levelMeter("nbaudio-live-meter", 110);
  const dot = element("span", "", "display:inline-block;width:10px;height:10px;border-radius:50%;background:#9e9e9e");
  const stateText = element("span", "nbaudio-live-state", "color:#444");
  const timer = element("span", "nbaudio-live-time", "font-variant-numeric:tabular-nums;color:#777");
  row.append(startBtn, talkBtn, level.meter, dot, stateText, timer);
  const { status, error } = messageLines("nbaudio-live");
  const turns = document.createElement("div");
  turns.className = "nbaudio-live-turns";
  turns.style.cssText = "margin-top:6px;max-height:320px;overflow-y:auto;display:flex;flex-direction:column;gap:4px";
  const note = document.createElement("div");
  note.style.cssText = "color:#888;font-size:11px;margin-top:4px";
  note.textContent = "Stop turns this into the conversation's record. Where the kernel takes widget messages " +
    "only between cells, the session pauses while a cell runs.";
  root.append(row, status, error, turns, note);
  el.append(root);

  // stats: what the page measured, for the figures and the tests (also as root.dataset.stats)
  // latencyParts: per reply, [utterance end → speech_stopped here, → first reply audio here, → first sample out]
  // wordsBeforeAudio: per reply, the words of its text on screen when its first audio came; silentWords: per
  // reply that ended or was cut before any audio, the words it had shown (text the user never heard);
  // hops: per reply, its latency by hop (live_hops.js) or null; gaps, gapMs: silences heard inside a reply (a piece
  // that came after the one before had finished playing: late from the server, or too little lead)
  const stats = { playedMs: 0, replies: 0, latenciesMs: [], latencyParts: [], interrupted: 0, micSeconds: 0,
                  sentPieces: 0, wordsBeforeAudio: [], silentWords: [], hops: [], gaps: 0, gapMs: 0 };
  let s = null;  // the running session: microphone, playback, bookkeeping
  let state = "idle";

  function setState(name) {
    state = name;
    const [color, text] = STATES[name] || STATES.idle;
    dot.style.background = color;
    stateText.textContent = text;
    root.dataset.state = name;
  }
  function showError(text) {
    error.textContent = text || "";
    error.style.display = error.textContent ? "" : "none";
  }
  function publish() { root.dataset.stats = JSON.stringify(stats); }
  function scrollDown() { turns.scrollTop = turns.scrollHeight; }

  // ---- the transcript of both sides ------------------------------------------------------------
  const bubbles = new Map();  // item_id -> {el, text, role}
  function bubble(itemId, role) {
    let b = bubbles.get(itemId);
    if (b) return b;
    const div = document.createElement("div");
    div.className = "nbaudio-live-turn nbaudio-live-" + role;
    const user = role === "user";
    div.style.cssText = "padding:4px 8px;border-radius:8px;max-width:85%;white-space:pre-wrap;" +
      (user ? "align-self:flex-end;background:#e8f0fe" : "align-self:flex-start;background:#f3f3f3");
    const who = document.createElement("b");
    who.textContent = user ? "you: " : "assistant: ";
    const text = document.createElement("span");
    text.className = "nbaudio-live-text";
    const mark = document.createElement("span");
    mark.className = "nbaudio-live-mark";
    mark.style.cssText = "color:#999";
    div.append(who, text, mark);
    turns.append(div);
    b = { el: div, text, mark, role, full: "", share: 1, heard: false };
    bubbles.set(itemId, b);
    scrollDown();
    return b;
  }

  // What a bubble shows: the text so far; of a reply cut short, the share of its words that was heard.
  function wordCount(text) { return text.split(/\s+/).filter(Boolean).length; }

  function setText(b, full) {
    b.full = full;
    if (b.share >= 1) { b.text.textContent = full; return; }
    const words = full.split(/\s+/).filter(Boolean);
    b.text.textContent = words.slice(0, Math.round(words.length * b.share)).join(" ") + " …";
  }

  // ---- playback --------------------------------------------------------------------------------
  function play(itemId, responseId, pcm, hop) {
    if (!s || s.cut.has(itemId) || !pcm.length) return;
    const ctx = s.ctx;
    const f = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) f[i] = pcm[i] / 32768;
    const buf = ctx.createBuffer(1, f.length, OUTPUT_RATE);
    buf.copyToChannel(f, 0);
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    const now = ctx.currentTime;
    let item = s.items.get(itemId);
    if (!item) { item = { pieces: [], receivedMs: 0, responseId }; s.items.set(itemId, item); }
    if (item.pieces.length && s.next < now) { stats.gaps += 1; stats.gapMs += Math.round(1000 * (now + LEAD_S - s.next)); }
    const start = Math.max(now + LEAD_S, s.next);
    src.start(start);
    s.next = start + buf.duration;
    item.pieces.push({ start, offsetMs: item.receivedMs, durMs: 1000 * buf.duration });
    item.receivedMs += 1000 * buf.duration;
    s.sources.add(src);
    src.onended = () => { s && s.sources.delete(src); if (s && !s.sources.size && state === "speaking") setState("listening"); };
    if (!s.heardResponses.has(responseId)) {
      s.heardResponses.add(responseId);
      stats.replies += 1;
      const b = bubbles.get(itemId);
      if (b) { b.heard = true; stats.wordsBeforeAudio.push(wordCount(b.full)); }
      // When the first sample reaches the speakers, on the page's clock (outputLatency where known).
      const out = ctx.outputLatency || ctx.baseLatency || 0;
      const at = performance.now() + 1000 * (start - now + out);
      if (s.utteranceEnd) {
        const ms = Math.round(at - s.utteranceEnd);
        stats.latenciesMs.push(ms);
        const arrived = performance.now();
        stats.latencyParts.push([Math.round((s.stoppedAt || arrived) - s.utteranceEnd),
                                 Math.round(arrived - (s.stoppedAt || arrived)), Math.round(at - arrived)]);
        stats.hops.push(s.hops.reply(hop, ctx, start, out));  // null where the stamps miss a hop
        status.textContent = "the reply began " + (ms / 1000).toFixed(2) + " s after you stopped speaking";
        s.utteranceEnd = 0;
      }
    }
    setState("speaking");
  }

  function playedMs(item) {
    const now = s.ctx.currentTime;
    let ms = 0;
    for (const p of item.pieces) {
      if (now > p.start) ms = Math.max(ms, p.offsetMs + Math.min(p.durMs, 1000 * (now - p.start)));
    }
    return Math.round(ms);
  }

  function countPlayed() {
    if (!s) return;
    let total = s.playedBefore;
    for (const item of s.items.values()) total += playedMs(item);
    stats.playedMs = Math.round(total);
  }

  // A reply still under way that has said nothing yet: it is cut where it is, at 0 ms.
  function openSilentItems() {
    for (const itemId of s.open) {
      if (!s.items.has(itemId)) s.items.set(itemId, { pieces: [], receivedMs: 0, responseId: null });
    }
  }

  // Stop what plays now; tell the kernel how much of each unfinished reply item was heard (a reply
  // still being made counts as unfinished even while nothing of it plays: between two of its phrases,
  // or before its first, its text runs ahead of what was heard).
  function interrupt() {
    if (!s) return;
    const now = s.ctx.currentTime;
    let cut = false;
    openSilentItems();
    for (const [itemId, item] of s.items) {
      const end = item.pieces.length ? item.pieces[item.pieces.length - 1] : null;
      if (s.cut.has(itemId) || (!end && !s.open.has(itemId))) continue;
      if (s.open.has(itemId) || end.start + end.durMs / 1000 > now) {
        const heard = playedMs(item);
        model.send({ type: "live:interrupted", item_id: itemId, audio_end_ms: heard });
        s.cut.add(itemId);
        stats.interrupted += 1;
        cut = true;
        s.open.delete(itemId);
        const b = bubbles.get(itemId);
        if (b) {
          b.mark.textContent = " ✂ (you interrupted after " + (heard / 1000).toFixed(1) + " s)";
          b.share = item.receivedMs > 0 ? Math.min(1, heard / item.receivedMs) : 0;
          if (!b.heard) stats.silentWords.push(wordCount(b.full));
          setText(b, b.full);
        }
      }
    }
    for (const src of s.sources) { try { src.stop(); } catch (e) { /* already stopped */ } }
    s.sources.clear();
    s.next = 0;
    countPlayed();
    // what was heard of the cut items is counted; forget their pieces so nothing counts twice
    for (const itemId of s.cut) {
      const item = s.items.get(itemId);
      if (item) { s.playedBefore += playedMs(item); s.items.delete(itemId); }
    }
    publish();
    return cut;
  }

  // ---- the microphone ----------------------------------------------------------------------------
  const mic = kernelMicrophone({
    model, prefix: "live", stats, level, startBtn, status, timer, publish, showError, setState,
    getState: () => state,
    // Echo cancellation keeps the reply coming out of the speakers from counting as the user.
    constraints: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    stopTitle: "end the conversation; its record replaces this widget",
    session: (value) => { s = value; },
    extra: () => ({ next: 0, items: new Map(), cut: new Set(), sources: new Set(), heardResponses: new Set(),
                    playedBefore: 0, open: new Set(), hops: liveHops(), lastSound: 0, utteranceEnd: 0,
                    talking: false }),
    heard(data) {
      if (data.peak >= SOUND_LEVEL) s.lastSound = performance.now();
      s.hops.block(s.ctx, data.pcm, s.seq, SOUND_LEVEL);
      return !(model.get("vad") === "manual" && !s.talking);
    },
    stamp(seq) { s.hops.sent(seq); return {}; },
    ticked: countPlayed,
    started() { talkBtn.style.display = model.get("vad") === "manual" ? "" : "none"; },
    closing(r) {
      countPlayed();
      for (const src of r.sources) { try { src.stop(); } catch (e) { /* already stopped */ } }
    },
    closed() { talkBtn.style.display = "none"; },
    stopping: interrupt,  // a reply still playing is cut where it stopped: the record keeps what was heard
  });

  talkBtn.addEventListener("click", () => {
    if (!s) return;
    if (!s.talking) {
      interrupt();  // talking over a reply cuts it, as in server mode
      s.talking = true;
      talkBtn.textContent = "■ Send";
      talkBtn.style.background = "#fde8e8";
      model.send({ type: "live:talk" });
      setState("hearing");
    } else {
      mic.sendPiece();
      s.talking = false;
      s.stoppedAt = performance.now();
      s.utteranceEnd = s.lastSound || s.stoppedAt;
      talkBtn.textContent = "● Talk";
      talkBtn.style.background = "#fafafa";
      model.send({ type: "live:send", seq: s.seq - 1 });
      setState("thinking");
    }
  });

  model.on("msg:custom", (msg, buffers) => {
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "audio":
        if (buffers && buffers.length) play(msg.item_id, msg.response_id, pcmFrom(buffers[0]), msg.hop);
        break;
      case "speech_started":
        if (s) { interrupt(); setState("hearing"); }
        bubble(msg.item_id, "user").text.textContent = "…";
        break;
      case "speech_stopped":
        if (s) {
          s.stoppedAt = performance.now(); s.utteranceEnd = s.lastSound || s.stoppedAt; setState("thinking");
          s.hops.stopped(msg.hop);
        }
        break;
      case "user_text": {
        const b = bubble(msg.item_id, "user");
        b.text.textContent = msg.text || (msg.final ? "(nothing recognised)" : "…");
        scrollDown();
        break;
      }
      case "assistant_item":
        bubble(msg.item_id, "assistant");
        if (s) s.open.add(msg.item_id);
        break;
      case "assistant_delta": {
        const b = bubble(msg.item_id, "assistant");
        setText(b, b.full + (msg.delta || ""));
        scrollDown();
        break;
      }
      case "assistant_text": {
        const b = bubble(msg.item_id, "assistant");
        setText(b, msg.text || "");
        break;
      }
      case "truncated": {
        const b = bubbles.get(msg.item_id);
        if (b) b.mark.textContent = " ✂ (cut at " + ((msg.audio_end_ms || 0) / 1000).toFixed(1) + " s: what you heard)";
        break;
      }
      case "response_done": {
        if (s && msg.item_id) s.open.delete(msg.item_id);
        const b = msg.item_id ? bubbles.get(msg.item_id) : null;
        if (b && !b.heard && b.full.trim() && msg.status === "completed") stats.silentWords.push(wordCount(b.full));
        if (s && !s.sources.size && state !== "hearing") setState("listening");
        break;
      }
      case "notice":
        status.textContent = msg.text || "";
        break;
      default:
        mic.take(msg);
    }
    publish();
  });

  return mic.shown(showSavedView);
}

export default { render };
