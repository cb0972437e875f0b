// nbaudio display: the speaker legend of a transcript filters its rows.
// Lines starting with // are dropped before the script is embedded.
// A click on a .nbaudio-spk entry shows only the rows (.nbaudio-seg[data-speaker]) of the chosen
// speakers; a second click lets that speaker go, and with none chosen every row shows. Rows are
// hidden with the `hidden` attribute, so player.js's search (which sets style.display) still applies
// on top. An "nbaudio-rows" event on the legend (player.js sends it after adding rows) applies the
// choice again. NBAUDIO_LEGEND_ID is replaced with the legend's id: the fallback where document.currentScript is unset.
(function(){var s=document.currentScript,r=s&&s.parentElement&&s.parentElement.closest?s.parentElement.closest(".nbaudio"):null;
var lg=r?r.querySelector(".nbaudio-legend"):document.getElementById("NBAUDIO_LEGEND_ID");if(!lg||lg.dataset.nbl)return;
lg.dataset.nbl=1;if(!r)r=lg.closest(".nbaudio")||lg.parentNode;var on={};
var es=lg.querySelectorAll(".nbaudio-spk");
function apply(){var any=false,k;for(k in on)if(on[k])any=true;
[].forEach.call(r.querySelectorAll(".nbaudio-seg"),function(g){g.hidden=any&&!on[g.getAttribute("data-speaker")];});
[].forEach.call(es,function(e){var c=!!on[e.getAttribute("data-speaker")];e.setAttribute("aria-pressed",c?"true":"false");
e.style.outline=c?"2px solid currentColor":"";e.style.opacity=any&&!c?"0.55":"";});}
[].forEach.call(es,function(e){e.setAttribute("role","button");e.setAttribute("tabindex","0");e.style.cursor="pointer";
e.setAttribute("aria-pressed","false");
function flip(ev){ev.preventDefault();var w=e.getAttribute("data-speaker");on[w]=!on[w];apply();}
e.addEventListener("click",flip);e.addEventListener("keydown",function(ev){if(ev.key==="Enter"||ev.key===" ")flip(ev);});});
var hint=document.createElement("span");hint.textContent="click a speaker to show only their rows";
hint.style.cssText="color:#888;font-size:0.85em";lg.appendChild(hint);lg.addEventListener("nbaudio-rows",apply);})();
