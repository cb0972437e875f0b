"""What a widget leaves in the saved notebook: its saved view, a plain HTML output beside the
widget's own that says what the widget is and what it recorded, with a player.

Why a second output. A widget's output holds only the id of a model that lives in the kernel and
the page. Reopened on a new kernel, JupyterLab and Notebook 7 find no model and write "Error
displaying widget: model not found"; nbconvert (nbviewer) and GitHub have no widgets at all. And
JupyterLab renders one MIME type per output, the widget's first in a trusted notebook, so a
text/html beside it in the same output is never shown there: the saved view must be an output of
its own. Three rules keep exactly one of the two in sight:

- while a view of the widget lives in the page, the widget's module hides the saved view (a style
  rule on its id, saved_view.js; every nbaudio widget's module starts with that file);
- the saved view's own style rule hides, in its output area, a widget output that shows no widget
  (the model-not-found error, or "Loading widget..." where no kernel starts). Style and scripts run
  only in a trusted notebook, and a JupyterLab reopening its own saved notebook trusts it;
- the widget's output carries no text/plain, so where widgets cannot render (an untrusted
  notebook, nbconvert, GitHub) it shows nothing rather than the repr the widget had when shown.

The kernel replaces the saved view (a display_id) whenever the widget's state changes, even from
a widget message after its cell ended, so the notebook saves the last state.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["SavedView", "saved_view_head", "show_widget", "widget_data", "standing_in"]

# Rules for JupyterLab's and Notebook 7's output areas (the widget renderer is a Lumino Panel; its
# error state adds `jupyter-widgets`, its waiting state has text only). :has() needs Chrome 105,
# Firefox 121, Safari 15.4; an older browser shows the error beside the saved view, as before.
_AREA = ".jp-OutputArea:has(.nbaudio-saved-view) > .jp-OutputArea-child"
_STYLE = ("<style>"
          f"{_AREA}:has(> .jp-OutputArea-output.lm-Panel.jupyter-widgets),"
          f"{_AREA} > .jp-OutputArea-output.lm-Panel:not(:has(*)){{display:none}}"
          "</style>")


class SavedView:
    """The saved view of a widget: `content()` gives its HTML body and plain text.

    `show()` displays it (once per place the widget is shown); `refresh()` redraws every copy with
    the widget's current state; `retire()` empties it for good (another output says it all now).
    """

    def __init__(self, content: Callable[[], tuple[str, str]]) -> None:
        self.view_id = uuid.uuid4().hex
        self._content = content
        self._shown = False
        self._retired = False

    def bundle(self) -> dict[str, str]:
        if self._retired:
            return {}
        body, text = self._content()
        return {"text/plain": text, "text/html": standing_in(body, self.view_id)}

    def show(self) -> None:
        from IPython.display import display

        display(self.bundle(), raw=True, display_id=self.view_id)
        self._shown = True

    def refresh(self) -> None:
        if self._shown:
            from IPython.display import update_display

            update_display(self.bundle(), raw=True, display_id=self.view_id)

    def retire(self) -> None:
        self._retired = True
        self.refresh()


def saved_view_head(title: str, state: str, hint: str) -> str:
    """The saved view's first line: what the widget is, what it holds, what to do for a live one."""
    return (f'<div class="nbaudio-saved-head" style="margin:2px 0 4px;color:#555">'
            f"<b>{html.escape(title)}</b>: {html.escape(state)} "
            f'<span style="opacity:.8">({html.escape(hint)})</span></div>')


def standing_in(body: str, view_id: str = "") -> str:
    """`body` (HTML) as an output that stands in for the widget beside it once no widget renders
    there: with the style rule that hides that widget's error. With a `view_id`, the widget's
    module hides this output while the widget lives; without one it always shows (the listening
    test's results, which belong beside the live widget too)."""
    return f'{_STYLE}<div class="nbaudio-saved-view" data-nbaudio-view="{view_id}">{body}</div>'


def widget_data(widget: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data, metadata) of the widget's output, without its text/plain (see above)."""
    bundle = widget._repr_mimebundle_()  # ipywidgets: (data, metadata) in a kernel, data elsewhere
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    return {mime: value for mime, value in data.items() if mime != "text/plain"}, metadata


def show_widget(widget: Any, view: SavedView, *, display_id: str | None = None) -> None:
    """Display `widget` (without its text/plain, see above), then its saved view."""
    from IPython.display import display

    data, metadata = widget_data(widget)
    display(data, raw=True, metadata=metadata, **({"display_id": display_id} if display_id else {}))
    view.show()
