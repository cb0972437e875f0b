// What every nbaudio widget's module starts with (nbaudio/widgets/esm.py joins the files). While a
// view of the widget lives in the page, the widget's saved view (the plain output beside it that a
// reopened notebook shows instead, nbaudio/widgets/saved_view.py) is hidden by a style rule on its id.
function hideSavedView(model) {
  const style = document.createElement("style");
  const update = () => {
    const id = model.get("saved_view_id");
    style.textContent = id ? `.nbaudio-saved-view[data-nbaudio-view="${CSS.escape(id)}"]{display:none}` : "";
  };
  update();
  document.head.append(style);
  model.on("change:saved_view_id", update);
  return () => { model.off("change:saved_view_id", update); style.remove(); };
}
