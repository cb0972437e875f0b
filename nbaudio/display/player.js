// nbaudio display: seek-on-click and a playback cursor for static notebook outputs.
// Lines starting with // are dropped before the script is embedded (every output carries a copy).
// Wires every .nbaudio-unit under the output: a click on the waveform seeks, a cursor follows
// playback, .nbaudio-ts[data-t] elements seek, the .nbaudio-seg being played is highlighted.
// NBAUDIO_ROOT_ID is replaced with the output's id: the fallback where document.currentScript is unset.
(function(){var s=document.currentScript,r=s&&s.parentElement;
if(!r||!r.querySelectorAll)r=document.getElementById("NBAUDIO_ROOT_ID");if(!r)return;
var us=r.querySelectorAll(".nbaudio-unit");if(r.classList.contains("nbaudio-unit"))us=[r].concat([].slice.call(us));
[].forEach.call(us,function(u){var a=u.querySelector("audio");if(!a||a.dataset.nbw)return;a.dataset.nbw=1;
var w=u.querySelector(".nbaudio-wave"),c=null,segs=u.querySelectorAll(".nbaudio-seg"),cur=null;
function go(t){a.currentTime=t;a.play();}
if(w){var x0=+w.dataset.x0,x1=+w.dataset.x1,d=+w.dataset.dur;c=document.createElement("div");
c.style.cssText="position:absolute;top:0;bottom:18%;width:1px;background:#e45756;pointer-events:none;display:none";
w.appendChild(c);w.style.cursor="pointer";w.addEventListener("click",function(e){var b=w.getBoundingClientRect();
var f=((e.clientX-b.left)/b.width-x0)/(x1-x0);go(Math.max(0,Math.min(1,f))*d);});}
[].forEach.call(u.querySelectorAll(".nbaudio-ts"),function(el){el.style.cursor="pointer";
el.style.textDecoration="underline dotted";el.addEventListener("click",function(e){e.preventDefault();go(+el.dataset.t);});});
function tick(){var t=a.currentTime;if(c){c.style.display="block";
c.style.left=((x0+(x1-x0)*Math.min(1,t/d))*100)+"%";}
var hit=null;for(var i=0;i<segs.length;i++){if(t>=+segs[i].dataset.start&&t<+segs[i].dataset.end){hit=segs[i];break;}}
if(hit!==cur){if(cur)cur.style.background="";if(hit)hit.style.background="rgba(76,120,168,0.18)";cur=hit;}
if(!a.paused)requestAnimationFrame(tick);}
a.addEventListener("play",tick);a.addEventListener("seeked",tick);a.addEventListener("timeupdate",tick);});})();
