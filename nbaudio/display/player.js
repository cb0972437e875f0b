// nbaudio display: seek-on-click and a playback cursor for static notebook outputs.
// Lines starting with // are dropped before the script is embedded (every output carries a copy).
// Removes the .nbaudio-noscript hints (they show only where scripts do not run), then wires every
// .nbaudio-unit under the output: a click on the waveform seeks, a cursor follows playback,
// .nbaudio-ts[data-t] elements seek (their links are for where scripts do not run), the .nbaudio-seg
// being played is highlighted and, while playing, kept in view inside its .nbaudio-rows box (that box
// scrolls, never the page); a .nbaudio-rows[data-search] box gets a search box that filters its rows
// (rows a speaker filter hid, speakers.js, stay hidden and are not counted). A box with data-total
// holds the first rows of more: the next ones (up to data-kept) wait unrendered in its
// script.nbaudio-later; they become rows on the first search, when playback passes the last row, or
// on a click on the caption above the box (.nbaudio-rows-cap), and follow the speaker filter (an
// "nbaudio-rows" event on the legend tells speakers.js to apply it again). When
// the audio element fails (a codec this browser cannot play, or a missing file) the element's own
// fallback sentence is shown under it.
// NBAUDIO_ROOT_ID is replaced with the output's id: the fallback where document.currentScript is unset.
(function(){var s=document.currentScript,r=s&&s.parentElement;
if(!r||!r.querySelectorAll)r=document.getElementById("NBAUDIO_ROOT_ID");if(!r)return;
[].forEach.call(r.querySelectorAll(".nbaudio-noscript"),function(h){h.parentNode.removeChild(h);});
var us=r.querySelectorAll(".nbaudio-unit");if(r.classList.contains("nbaudio-unit"))us=[r].concat([].slice.call(us));
[].forEach.call(us,function(u){var a=u.querySelector("audio");if(!a||a.dataset.nbw)return;a.dataset.nbw=1;
var w=u.querySelector(".nbaudio-wave"),c=null,segs=u.querySelectorAll(".nbaudio-seg"),cur=null,
box=u.querySelector(".nbaudio-rows");
function go(t){a.currentTime=t;var p=a.play();if(p&&p.catch)p.catch(function(){});}
function failed(){if(a.dataset.nbe)return;a.dataset.nbe=1;var m=document.createElement("div"),
s=a.getAttribute("src")||"",f=a.textContent.trim();try{s=decodeURI(s);}catch(e){}
m.className="nbaudio-error";m.style.cssText="color:#b45309;font-size:0.85em";
m.textContent="\u26a0 "+(/^data:/.test(s)?f:s+" did not play: the file is missing, or t"+f.slice(1));
a.parentNode.insertBefore(m,a.nextSibling);}
a.addEventListener("error",failed);if(a.error)failed();
if(w){var x0=+w.dataset.x0,x1=+w.dataset.x1,d=+w.dataset.dur;c=document.createElement("div");
c.style.cssText="position:absolute;top:0;bottom:0;width:1px;background:#e45756;pointer-events:none;display:none";
w.appendChild(c);w.style.cursor="pointer";w.addEventListener("click",function(e){var b=w.getBoundingClientRect();
var f=((e.clientX-b.left)/b.width-x0)/(x1-x0);go(Math.max(0,Math.min(1,f))*d);});}
// One listener for every time in the unit, in the capture phase: it runs before the handler JupyterLab
// puts on each link to a local file (which would open the file in a new tab), and costs nothing per row.
u.classList.add("nbaudio-js");if(!document.getElementById("nbaudio-js-style")){var st=document.createElement("style");
st.id="nbaudio-js-style";st.textContent=".nbaudio-js .nbaudio-ts{cursor:pointer;color:inherit;text-decoration:underline dotted}";
document.head.appendChild(st);}
u.addEventListener("click",function(e){var el=e.target.closest&&e.target.closest(".nbaudio-ts");
if(!el||!u.contains(el))return;e.preventDefault();e.stopPropagation();go(+el.dataset.t);},true);
var later=box&&box.querySelector("script.nbaudio-later"),cap=u.querySelector(".nbaudio-rows-cap"),
tot=box&&+box.dataset.total||segs.length,lg=u.querySelector(".nbaudio-legend");
function of(k){return tot>k?"the first "+k+" of "+tot+" segments":k+" segments";}
function more(){if(!later)return;var h=later.textContent,mr=box.querySelector(".nbaudio-rows-more"),k=+box.dataset.kept;
later.parentNode.removeChild(later);later=null;if(mr)mr.insertAdjacentHTML("beforebegin",h);
segs=u.querySelectorAll(".nbaudio-seg");if(lg)lg.dispatchEvent(new Event("nbaudio-rows"));
if(k>=tot){if(mr)mr.parentNode.removeChild(mr);if(cap)cap.parentNode.removeChild(cap);}
else{if(mr)mr.firstChild.textContent=mr.firstChild.textContent.replace(/^\u2026 \d+/,"\u2026 "+(tot-k));
if(cap){cap.textContent="first "+k+" of "+tot+" segments shown; "+cap.dataset.see;cap.style.cursor="";}}
if(q)q.placeholder="search "+of(segs.length);}
if(later&&cap){cap.dataset.see=cap.textContent.split("); ").slice(1).join("); ");
cap.textContent="first "+segs.length+" of "+tot+" segments shown; the next "+(+box.dataset.kept-segs.length)+
" show when a search or the playback reaches them, or on a click here";cap.style.cursor="pointer";
cap.addEventListener("click",more);}
var q=null;if(box&&box.dataset.search){q=document.createElement("input");var n=document.createElement("span");
q.type="search";q.className="nbaudio-search";q.placeholder="search "+of(later?+box.dataset.kept:segs.length);
q.setAttribute("aria-label","search the transcript");q.style.cssText="margin:4px 8px 2px 0;padding:2px 6px;width:18em;max-width:60%;font:inherit";
n.className="nbaudio-search-count";n.style.cssText="color:#888;font-size:0.85em";
q.addEventListener("input",function(){var v=q.value.trim().toLowerCase(),k=0;if(v)more();
[].forEach.call(segs,function(g){var m=!v||g.textContent.toLowerCase().indexOf(v)>=0;g.style.display=m?"":"none";if(m&&!g.hidden)k++;});
n.textContent=v?k+" of "+of(segs.length):"";});
var bar=document.createElement("div");bar.appendChild(q);bar.appendChild(n);box.parentNode.insertBefore(bar,box);}
function keep(row){if(!box||a.paused)return;var rb=row.getBoundingClientRect(),bb=box.getBoundingClientRect();
if(!rb.height||!bb.height)return;var hd=box.querySelector("thead"),top=bb.top+(hd?hd.offsetHeight:0);
if(rb.top<top||rb.bottom>bb.bottom)box.scrollTop+=rb.top-top-(bb.bottom-top-rb.height)/3;}
function tick(){var t=a.currentTime;if(later&&segs.length&&t>=+segs[segs.length-1].dataset.end)more();
if(c){c.style.display="block";
c.style.left=((x0+(x1-x0)*Math.min(1,t/d))*100)+"%";}
var hit=null;for(var i=0;i<segs.length;i++){if(t>=+segs[i].dataset.start&&t<+segs[i].dataset.end){hit=segs[i];break;}}
if(hit!==cur){if(cur)cur.style.background="";if(hit){hit.style.background="rgba(76,120,168,0.18)";keep(hit);}cur=hit;}
if(!a.paused)requestAnimationFrame(tick);}
a.addEventListener("play",tick);a.addEventListener("seeked",tick);a.addEventListener("timeupdate",tick);});})();
