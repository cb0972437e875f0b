// The browser half of nbaudio.widgets.AudioElement (an anywidget ES module): an <audio> element
// (no native controls; the ipywidgets of Player drive it) over the waveform image, with a cursor
// that follows playback and click-to-seek on the waveform, and the time labels under it (text in the
// notebook's font, placed like nbaudio.display's: labels near an end are aligned to it).
function blobUrl(view, type) {
  if (!view || !view.byteLength) return "";
  return URL.createObjectURL(new Blob([view], { type }));
}
function render({ model, el }) {
  const showSavedView = hideSavedView(model);
  const wrap = document.createElement("div");
  wrap.style.cssText = "position:relative;width:100%;max-width:" + model.get("width") + "px;cursor:pointer";
  const img = document.createElement("img");
  img.style.cssText = "width:100%;display:block";
  img.alt = "waveform";
  const cursor = document.createElement("div");
  cursor.style.cssText = "position:absolute;top:0;bottom:0;width:2px;background:#e45756;pointer-events:none";
  const ticks = document.createElement("div");
  ticks.className = "nbaudio-ticks";
  ticks.style.cssText = "position:relative;height:1.7em;font-size:0.85em;line-height:1;opacity:0.8;width:100%;" +
    "max-width:" + model.get("width") + "px";
  const audio = document.createElement("audio");
  audio.preload = "auto";
  wrap.append(img, cursor);
  el.append(wrap, ticks, audio);
  let audioUrl = "", imgUrl = "", frame = 0;

  function place(t) {
    const d = model.get("duration") || 1, x0 = model.get("x0"), x1 = model.get("x1");
    cursor.style.left = ((x0 + (x1 - x0) * Math.min(1, Math.max(0, t / d))) * 100) + "%";
  }
  function report() {
    model.set("position", audio.currentTime);
    model.save_changes();
  }
  function animate() {
    place(audio.currentTime);
    frame = audio.paused ? 0 : requestAnimationFrame(animate);
  }
  function loadAudio() {
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = blobUrl(model.get("audio"), model.get("mime"));
    audio.src = audioUrl;
    audio.playbackRate = model.get("rate");
  }
  function loadImage() {
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    imgUrl = blobUrl(model.get("waveform"), "image/png");
    img.src = imgUrl;
    img.style.display = imgUrl ? "block" : "none";
    place(model.get("position"));
  }
  function loadTicks() {
    const x0 = model.get("x0"), x1 = model.get("x1");
    ticks.replaceChildren(...(model.get("ticks") || []).map(([f, label]) => {
      const span = document.createElement("span"), at = (x0 + (x1 - x0) * f) * 100;
      const mark = f <= 0.03 ? "0" : f >= 0.97 ? "100%" : "50%";
      span.className = "nbaudio-tick";
      span.textContent = label;
      span.style.cssText = "position:absolute;top:0;padding-top:5px;white-space:nowrap;" +
        "background:linear-gradient(currentColor,currentColor) " + mark + " 0/1px 4px no-repeat;" +
        (mark === "100%" ? "right:" + (100 - at) + "%" : "left:" + at + "%") +
        (mark === "50%" ? ";transform:translateX(-50%)" : "");
      return span;
    }));
  }
  function syncPlaying() {
    if (model.get("playing") && audio.paused) {
      audio.play().catch(() => { model.set("playing", false); model.save_changes(); });
    } else if (!model.get("playing") && !audio.paused) {
      audio.pause();
    }
  }
  audio.addEventListener("play", () => {
    if (!model.get("playing")) { model.set("playing", true); model.save_changes(); }
    if (!frame) animate();
  });
  audio.addEventListener("pause", () => {
    if (model.get("playing")) { model.set("playing", false); model.save_changes(); }
    report();
  });
  audio.addEventListener("timeupdate", report);
  audio.addEventListener("seeked", () => { place(audio.currentTime); report(); });
  audio.addEventListener("ratechange", () => {
    if (audio.playbackRate !== model.get("rate")) audio.playbackRate = model.get("rate");
  });
  wrap.addEventListener("click", (e) => {
    const b = wrap.getBoundingClientRect(), x0 = model.get("x0"), x1 = model.get("x1");
    const f = ((e.clientX - b.left) / b.width - x0) / (x1 - x0);
    audio.currentTime = Math.max(0, Math.min(1, f)) * (model.get("duration") || 0);
  });
  model.on("change:audio", loadAudio);
  model.on("change:mime", loadAudio);
  model.on("change:waveform", loadImage);
  model.on("change:ticks", loadTicks);
  model.on("change:playing", syncPlaying);
  model.on("change:rate", () => { audio.playbackRate = model.get("rate"); });
  model.on("msg:custom", (msg) => {
    if (msg && msg.type === "seek") { audio.currentTime = msg.time; place(msg.time); }
  });
  loadAudio();
  loadImage();
  loadTicks();
  audio.currentTime = model.get("position") || 0;
  return () => {
    audio.pause();
    if (frame) cancelAnimationFrame(frame);
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    showSavedView();
  };
}
export default { render };
