// A %%voice cell is a message to a voice model, not Python: its editor shows plain text.
//
// JupyterLab gives every code cell the notebook's language (NotebookPanel's codeMimetype, from
// the kernel's language_info) and has no setting that maps a cell magic to another language
// (jupyterlab/jupyterlab#3869, #15324). The notebook writes each code cell model's mimeType when
// the cell is inserted and again for every cell when the language changes (a kernel change), so
// this plugin watches each cell model: when its mimeType or its source changes, a cell whose first
// line is the %%voice magic gets text/plain, and a cell that stops being one gets the notebook's
// language back.
//
// The editor applies a mimeType when its language has loaded, and the last load to finish wins:
// text/plain set at once would load before Python (the first time a notebook opens) and Python
// would then win. So a %%voice cell given another language waits until that language has loaded,
// and one task more for the editor to apply it, before it gets text/plain. Built by `make labextension` (tools/build_labextension.py); the bundle is
// committed in share/jupyter/labextensions/nbaudio-lab.
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';

const MAGIC = '%%voice';
const PLAIN = 'text/plain';

/** Whether a cell's source starts with the %%voice magic (and not a longer name, %%voices). */
function isVoiceSource(source) {
  if (!source.startsWith(MAGIC)) {
    return false;
  }
  const next = source.charAt(MAGIC.length);
  return next === '' || /\s/.test(next);
}

/** Keeps the editor language of one notebook's %%voice cells plain. */
class VoiceCells {
  constructor(notebook, languages) {
    this._notebook = notebook;
    this._languages = languages;
    this._watched = new WeakSet();
    // The cell models this plugin made plain: only those get the notebook's language back.
    this._plain = new WeakSet();
  }

  watchModel(model) {
    if (!model) {
      return;
    }
    for (const cell of model.cells) {
      this._watchCell(cell);
    }
    model.cells.changed.connect((_, change) => {
      if (change.type === 'add' || change.type === 'set') {
        change.newValues.forEach(cell => this._watchCell(cell));
      }
    });
  }

  _watchCell(cell) {
    if (cell.type !== 'code' || this._watched.has(cell)) {
      return;
    }
    this._watched.add(cell);
    cell.mimeTypeChanged.connect(() => this._apply(cell));
    cell.sharedModel.changed.connect((_, change) => {
      if (change.sourceChange) {
        this._apply(cell);
      }
    });
    this._apply(cell);
  }

  _apply(cell) {
    if (cell.isDisposed) {
      return;
    }
    if (isVoiceSource(cell.sharedModel.getSource())) {
      if (cell.mimeType === PLAIN) {
        this._plain.add(cell);
        return;
      }
      const makePlain = () => setTimeout(() => this._makePlain(cell), 0);
      this._languages.getLanguage(cell.mimeType).then(makePlain, makePlain);
    } else if (this._plain.has(cell)) {
      this._plain.delete(cell);
      cell.mimeType = this._notebook.codeMimetype;
    }
  }

  _makePlain(cell) {
    if (cell.isDisposed || !isVoiceSource(cell.sharedModel.getSource())) {
      return;
    }
    this._plain.add(cell);
    cell.mimeType = PLAIN; // emits mimeTypeChanged again: _apply then finds nothing to do
  }
}

function watchPanel(panel, languages) {
  const notebook = panel.content;
  const cells = new VoiceCells(notebook, languages);
  cells.watchModel(notebook.model);
  notebook.modelChanged.connect(() => cells.watchModel(notebook.model));
}

const plugin = {
  id: 'nbaudio-lab:voice-cells',
  description: 'Shows the text of %%voice cells as plain text instead of Python.',
  autoStart: true,
  requires: [INotebookTracker, IEditorLanguageRegistry],
  activate: (app, tracker, languages) => {
    tracker.forEach(panel => watchPanel(panel, languages));
    tracker.widgetAdded.connect((_, panel) => watchPanel(panel, languages));
  }
};

export default plugin;
