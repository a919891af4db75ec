"""The main window: open/save/export, recent files and layout that persist, live training, closing."""
from __future__ import annotations

import html
import json
import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEventLoop, QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent, QImage, QKeySequence
from PySide6.QtWidgets import QApplication

import aeviewer.gui.app as app_module
from aeviewer.gui.app import create_main_window, default_model_path, run_app
from aeviewer.gui.window.main_window import MainWindow
from aeviewer.gui.state.settings_store import MAX_RECENT
from aeviewer.gui.startup.start_window import StartWindow
from stall_clock import StallClock


@pytest.fixture(autouse=True)
def _no_pretrained_default(monkeypatch):
    monkeypatch.setattr(app_module, "default_model_path", lambda *a, **k: None)


def make_window(qtbot, model_path=None) -> MainWindow:
    window = create_main_window(model_path)
    window.errors = []
    window.show_error = lambda title, text: window.errors.append(text)  # no modal dialogs in tests
    window.confirm_close_during_training = lambda: True
    window.training_panel.train_threads = 1
    qtbot.addWidget(window)
    return window


@pytest.fixture
def window(qtbot) -> MainWindow:
    window = make_window(qtbot)
    yield window
    window.training_panel.shutdown()


def choose(box, value) -> None:
    box.setCurrentIndex(box.findData(value))


def test_empty_start_shows_the_hint(window):
    assert window.session.model is None
    assert window.centre.currentWidget() is window.hint and "Start" in window.hint.text()
    assert window.model_label.text() == "No model" and "no model" in window.windowTitle()


def test_key_widgets_carry_their_object_names(window):
    for name in ("trainingPanel", "latentView", "decoderCanvas", "codebookView", "denoiseView"):
        assert window.findChild(object, name) is not None, name


def test_open_a_checkpoint(window, digits_checkpoint, digits_test, wait_encoded):
    assert window.open_model(digits_checkpoint)
    wait_encoded(window)
    session = window.session
    assert session.kind == "ae" and session.dataset_name == "digits" and session.model_path == digits_checkpoint
    assert session.latents.shape == (len(digits_test), 2)
    assert window.centre.currentWidget() is window.latent_view
    assert window.model_label.text().startswith("AE") and "digits" in window.dataset_label.text()
    assert "cpu" in window.device_label.text()
    assert digits_checkpoint.name in window.windowTitle() and digits_checkpoint.name in window.action_label.text()
    assert window.recent_files()[0] == str(digits_checkpoint.resolve())
    assert window.codebook_dock.isHidden()  # not a VQ-VAE


def test_create_main_window_opens_the_given_model(qtbot, digits_checkpoint):
    window = make_window(qtbot, digits_checkpoint)
    assert window.session.model_path == digits_checkpoint


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"\x08\x00\x00\x00\x00\x00\x00\x00{}"])
def test_a_bad_file_shows_the_error_and_keeps_the_current_model(window, digits_checkpoint, tmp_path, content):
    assert window.open_model(digits_checkpoint)
    model = window.session.model
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(content)
    assert not window.open_model(bad)
    assert len(window.errors) == 1 and "\n" not in window.errors[0] and "broken.safetensors" in window.errors[0]
    assert window.session.model is model and window.session.model_path == digits_checkpoint


def test_a_missing_file_shows_the_error(window, tmp_path):
    assert not window.open_model(tmp_path / "nowhere.safetensors")
    assert window.errors and "nowhere.safetensors" in window.errors[0]
    assert window.session.model is None


def test_save_round_trips_the_weights(window, digits_checkpoint, tmp_path):
    from aeviewer.training.checkpoint import load_checkpoint

    window.open_model(digits_checkpoint)
    saved = window.save_model_to(tmp_path / "copy")
    assert saved == tmp_path / "copy.safetensors" and saved.is_file()
    loaded = load_checkpoint(saved)
    assert loaded.dataset == "digits" and loaded.history == load_checkpoint(digits_checkpoint).history
    for key, value in window.session.model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key])
    assert window.session.model_path == saved and "Saved" in window.action_label.text()


def test_save_asks_for_a_path_for_an_unsaved_model(window, make_tiny_model, digits_test, tmp_path):
    window.session.set_model(make_tiny_model("vae"), "digits", digits_test)
    asked = []
    window.ask_save_path = lambda *a: asked.append(a) or str(tmp_path / "new.safetensors")
    assert window.save_model() == tmp_path / "new.safetensors"
    assert asked and (tmp_path / "new.safetensors").is_file()
    window.ask_save_path = lambda *a: pytest.fail("a model with a file saves there without asking")
    assert window.save_model() == tmp_path / "new.safetensors"


def test_save_with_nothing_open_says_so(window):
    assert window.save_model() is None and "Nothing to save" in window.action_label.text()


@pytest.mark.parametrize("view", ["latent", "decoder", "codebook", "denoise"])
def test_export_a_view_as_png(window, digits_checkpoint, tmp_path, view):
    window.show()
    window.open_model(digits_checkpoint)
    path = window.export_image(tmp_path / f"{view}", view)
    image = QImage(str(path))
    assert path.suffix == ".png" and not image.isNull() and image.width() > 10


def test_the_codebook_export_is_offered_only_for_a_vq_model(window, digits_checkpoint, tmp_path, make_tiny_model):
    window.open_model(digits_checkpoint)  # an AE
    assert not window.export_actions["codebook"].isEnabled() and window.export_actions["latent"].isEnabled()
    from aeviewer.training.checkpoint import save_checkpoint

    window.open_model(save_checkpoint(tmp_path / "vq.safetensors", make_tiny_model("vqvae"), dataset="digits"))
    assert window.export_actions["codebook"].isEnabled()


def test_export_defaults_to_the_latent_scatter(window, digits_checkpoint, tmp_path):
    window.open_model(digits_checkpoint)
    window.export_image(tmp_path / "current.png")
    assert "latent" in window.action_label.text()


def test_dropping_a_safetensors_file_opens_it(window, digits_checkpoint):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(digits_checkpoint))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.session.model_path == digits_checkpoint


def test_recent_files_are_capped_newest_first_and_persist(qtbot, window, tmp_path):
    paths = [tmp_path / f"m{i}.safetensors" for i in range(MAX_RECENT + 3)]
    for path in paths:
        window.add_recent(path)
    window.add_recent(paths[4])  # reopening moves it to the top, without a duplicate
    recent = window.recent_files()
    assert len(recent) == MAX_RECENT and recent[0] == str(paths[4].resolve()) and len(set(recent)) == MAX_RECENT
    again = make_window(qtbot)
    assert again.recent_files() == recent
    assert [a.toolTip() for a in again.recent_menu.actions()] == recent


def test_geometry_and_dock_layout_persist(qtbot):
    first = make_window(qtbot)
    first.show()
    first.resize(700, 500)
    first.decoder_dock.hide()
    first.close()
    second = make_window(qtbot)
    second.show()
    assert second.decoder_dock.isHidden() and not second.training_dock.isHidden()
    assert (second.width(), second.height()) == (700, 500)


def test_actions_have_shortcuts_and_tooltips(window):
    expected = {window.open_action: "Ctrl+O", window.save_action: "Ctrl+S", window.export_action: "Ctrl+E",
                window.quit_action: "Ctrl+Q", window.train_action: "Space", window.stop_action: "Esc"}
    for action, keys in expected.items():
        assert action.shortcut() == QKeySequence(keys), action.text()
        assert action.toolTip() and action.toolTip() != action.text().replace("&", "")


def test_codebook_dock_is_shown_for_the_vqvae_only(window, make_tiny_model, digits_test):
    window.session.set_model(make_tiny_model("vqvae"), "digits", digits_test)
    assert not window.codebook_dock.isHidden() and window.codebook_dock.toggleViewAction().isEnabled()
    window.session.set_model(make_tiny_model("ae"), "digits", digits_test)
    assert window.codebook_dock.isHidden() and not window.codebook_dock.toggleViewAction().isEnabled()


def test_training_from_the_window_updates_live_and_never_freezes(qtbot, window, wait_encoded):
    """Space starts, pauses and resumes, Esc stops; snapshots redraw at most about once a second,
    and a zero-delay timer keeps firing with gaps under 100 ms the whole time."""
    window.show()
    window.warm_up.join()  # the one-time import the app does in the background while the user looks around
    panel = window.training_panel
    choose(panel.dataset, "digits")
    panel.epochs.setValue(1000)
    updates: list[float] = []
    window.session.weightsUpdated.connect(lambda: updates.append(time.monotonic()))
    window.train_action.trigger()  # Space
    assert panel.is_running() and "(training)" in window.device_label.text()
    wait_encoded(window)  # the new model's test split, encoded in the background as in the app
    first_coords = window.session.coords.copy()
    qtbot.waitUntil(lambda: "Epoch" in panel.progress_label.text(), timeout=10_000)  # the run is under way

    # A real event loop, as app.exec() runs it, until three live redraws have happened.
    loop = QEventLoop()
    window.session.weightsUpdated.connect(lambda: len(updates) >= 3 and loop.quit())
    QTimer.singleShot(20_000, loop.quit)  # a safety net; the asserts below say what went wrong
    clock = StallClock()
    clock.start()
    loop.exec()
    clock.stop()
    assert len(updates) >= 3
    # The GUI thread's own stalls (its work, or waiting for the training thread's GIL), not the time a loaded
    # machine kept it from a core.
    assert clock.ticks > 100 and max((g.own for g in clock.gaps), default=0.0) < 0.1, clock.longest()
    assert min(np.diff(updates)) > 0.8  # throttled to about one redraw a second
    assert not np.allclose(first_coords, window.session.coords)  # the scatter follows the training

    window.train_action.trigger()  # Space again: pause
    assert panel.is_paused()
    window.train_action.trigger()  # and resume
    assert panel.is_running() and not panel.is_paused()
    with qtbot.waitSignal(panel.trainingFinished, timeout=10_000) as blocker:
        window.stop_action.trigger()  # Esc
    assert blocker.args[0]["status"] == "stopped"
    # The final weights are in the GUI's model at once, not a second later.
    trained = panel.worker._trainer.model.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in window.session.model.state_dict().items())
    assert window.document.records["history"] == panel.history


def test_closing_during_training_asks_then_joins_the_thread(qtbot, window):
    window.show()
    panel = window.training_panel
    choose(panel.dataset, "digits")
    panel.epochs.setValue(1000)
    assert panel.start()
    qtbot.waitUntil(lambda: "Epoch" in panel.progress_label.text(), timeout=10_000)
    asked = []
    window.confirm_close_during_training = lambda: asked.append(1) or False
    window.close()
    assert asked and window.isVisible() and panel.is_running()  # "No" keeps the window and the run
    window.confirm_close_during_training = lambda: True
    thread = panel.thread
    window.close()
    assert not window.isVisible() and thread.isFinished()


def test_default_model_comes_from_the_trained_index(tmp_path):
    assert default_model_path(tmp_path) is None  # no index: start empty
    (tmp_path / "index.json").write_text("{not json")
    assert default_model_path(tmp_path) is None
    for name in ("ae.safetensors", "vae2.safetensors", "vae16.safetensors"):
        (tmp_path / name).write_bytes(b"x")
    entries = [{"path": "ae.safetensors", "kind": "ae", "dataset": "mnist"},
               {"path": "vae16.safetensors", "kind": "vae", "dataset": "mnist", "latent_dim": 16},
               {"path": "vae2.safetensors", "kind": "vae", "dataset": "mnist", "latent_dim": 2}]
    (tmp_path / "index.json").write_text(json.dumps({"models": entries}))
    assert default_model_path(tmp_path) == tmp_path / "vae2.safetensors"
    (tmp_path / "index.json").write_text(json.dumps({"default": "ae.safetensors", "models": entries}))
    assert default_model_path(tmp_path) == tmp_path / "ae.safetensors"


def test_run_app_paints_a_start_window_then_shows_the_main_window(qtbot, monkeypatch, digits_checkpoint):
    created: list[MainWindow] = []
    starts: list[str] = []

    def start_windows() -> list[str]:
        return [w.label.text() for w in QApplication.topLevelWidgets() if isinstance(w, StartWindow) and w.isVisible()]

    def create(*args, **kwargs):
        starts.extend(start_windows())
        created.append(create_main_window(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(app_module, "create_main_window", create)
    visible: list[bool] = []

    def look_then_quit() -> None:
        if not created:
            QTimer.singleShot(10, look_then_quit)
            return
        visible.append(created[0].isVisible())
        visible.append(bool(start_windows()))
        QApplication.instance().exit(0)  # not quit(): in Qt 6 it closes every window, and later tests' never paint

    QTimer.singleShot(0, look_then_quit)
    assert run_app(["aeviewer", str(digits_checkpoint)]) == 0
    qtbot.addWidget(created[0])
    assert starts == [f"Opening {digits_checkpoint.name}…"]
    assert visible == [True, False] and created[0].session.model_path == digits_checkpoint


def test_run_app_exits_1_with_one_line_when_the_window_cannot_be_built(qtbot, monkeypatch, capsys, digits_checkpoint):
    def broken(*args, **kwargs):
        raise RuntimeError("no display for you")

    monkeypatch.setattr(app_module, "create_main_window", broken)
    assert run_app(["aeviewer", str(digits_checkpoint)]) == 1
    assert capsys.readouterr().err.strip() == "aeviewer: error: cannot open the window: no display for you"


def test_first_run_opens_the_indexed_default_with_its_scatter(qtbot, monkeypatch, tmp_path, digits_checkpoint,
                                                              digits_test, wait_encoded):
    """A bare start (no model named) opens the index's default and draws its test split."""
    import shutil

    monkeypatch.setattr(app_module, "default_model_path", default_model_path)  # undo the autouse stub
    shutil.copy(digits_checkpoint, tmp_path / "ae-digits.safetensors")
    (tmp_path / "index.json").write_text(json.dumps(
        {"default": "ae-digits.safetensors", "models": [{"file": "ae-digits.safetensors", "kind": "ae"}]}))
    window = create_main_window(trained_dir=tmp_path)
    qtbot.addWidget(window)
    assert window.session.model_path == tmp_path / "ae-digits.safetensors"
    wait_encoded(window)
    assert window.session.coords.shape == (len(digits_test), 2)
    assert window.centre.currentWidget() is window.latent_view and window.data_banner.isHidden()
    assert "ae-digits.safetensors" in window.windowTitle()
    assert "ae-digits.safetensors" in window.action_label.text() and f"{len(digits_test):,} test images" in window.action_label.text()


def test_the_shipped_mnist_test_split_is_found_without_a_data_directory(monkeypatch, tmp_path):
    """The pretrained MNIST models open offline: the bundled test split is found with an empty data dir."""
    from aeviewer.data.loader import load_split

    monkeypatch.setenv("AEVIEWER_DATA", str(tmp_path / "empty"))
    test = load_split("mnist", "test", None)
    assert len(test) == 10_000 and tuple(test.images.shape[1:]) == (1, 28, 28)


def test_a_model_whose_test_split_is_missing_opens_with_a_message(qtbot, monkeypatch, tmp_path, make_tiny_model):
    import aeviewer.data.sources as sources
    from aeviewer.training.checkpoint import save_checkpoint

    monkeypatch.setattr(sources, "SYSTEM_DIRS", {})
    monkeypatch.setattr(sources, "BUNDLED_DATA_DIR", tmp_path / "no-bundle")
    path = save_checkpoint(tmp_path / "vae-fashion.safetensors", make_tiny_model("vae", latent_dim=2),
                           dataset="fashion-mnist")
    window = create_main_window(path, data_dir=tmp_path / "no-data")
    window.show_error = lambda title, text: pytest.fail(f"no dialog expected: {text}")
    qtbot.addWidget(window)
    window.show()
    assert window.session.model_path == path and window.session.test_set is None
    assert window.data_banner.isVisible() and "No scatter" in window.data_banner.text()
    assert "fashion-mnist" in window.data_banner.text() and "not found" in window.data_banner.text()
    assert "aeviewer data fetch fashion-mnist" in window.data_banner.text()  # the cure, where there is one
    assert "prior samples work" in window.data_banner.text()  # a VAE has a prior
    assert "no scatter" in window.action_label.text() and "(no test split)" in window.dataset_label.text()
    assert "vae-fashion.safetensors" in window.windowTitle()
    window.session.set_current_point_2d(0.5, -0.5)  # the decoder still works without data
    assert window.session.current_z is not None


@pytest.mark.parametrize("dataset, problem", [
    ("emnist", "unknown data set 'emnist'"),  # written by a newer aeviewer, or by hand
    ("mnist", "the mnist test images are 28×28, the model takes 8×8"),  # the 8x8 model names MNIST
])
def test_a_checkpoint_whose_data_set_cannot_feed_the_scatter_opens_without_one(
        qtbot, tmp_path, make_tiny_model, dataset, problem):
    """Nothing escapes the open slot: the model opens, the banner says why there is no scatter, and advises
    fetching data only where that would help."""
    from aeviewer.training.checkpoint import save_checkpoint

    path = save_checkpoint(tmp_path / "m.safetensors", make_tiny_model("ae"), dataset=dataset)
    window = create_main_window(None, data_dir=tmp_path / "no-data")
    window.show_error = lambda title, text: pytest.fail(f"no dialog expected: {text}")
    qtbot.addWidget(window)
    window.show()
    assert window.open_model(path)
    assert window.session.model_path == path and window.session.test_set is None
    banner = html.unescape(window.data_banner.text())
    assert window.data_banner.isVisible() and problem in banner and problem in window.action_label.text()
    assert "data fetch" not in banner and "prior samples" not in banner  # an AE has no prior
    window.session.set_current_point_2d(0.5, -0.5)
    assert window.session.current_z is not None


def test_space_acts_on_a_focused_button_or_box_and_starts_training_elsewhere(qtbot, window, digits_checkpoint, monkeypatch):
    """Space is the start/pause shortcut, except on a focused check box, button or list box, where it does
    what it does there: ticking "Continue training" from the keyboard once started a run that replaced the
    open model with a new one."""
    from PySide6.QtTest import QTest

    window.show()
    window.activateWindow()
    QTest.qWaitForWindowExposed(window)
    window.open_model(digits_checkpoint)
    model, panel, starts = window.session.model, window.training_panel, []
    monkeypatch.setattr(panel, "start", lambda: starts.append(1))
    for widget in (panel.kind, window.denoise_view.new_button, panel.continue_box):  # Continue last: greys out Kind
        widget.setFocus()
        assert QApplication.focusWidget() is widget
        QTest.keyClick(widget, Qt.Key.Key_Space)
        assert starts == [] and window.session.model is model
    panel.kind.hidePopup()  # the combo box took its Space
    assert panel.continue_box.isChecked()  # and so did the check box
    window.latent_view.setFocus()
    QTest.keyClick(window.latent_view, Qt.Key.Key_Space)
    assert starts == [1]


def test_opening_a_checkpoint_shows_its_saved_history_in_the_loss_plot(window, digits_checkpoint):
    from aeviewer.training.checkpoint import load_checkpoint

    history = load_checkpoint(digits_checkpoint).history
    assert len(history) == 2
    plot = window.training_panel.loss_plot
    window.open_model(digits_checkpoint)
    steps, values = plot.series("total")
    assert list(steps) == [1.0, 2.0] and list(values) == [h["total"] for h in history]
    assert "seconds" not in plot.curves and "epoch" not in plot.curves
    assert plot.getPlotItem().getAxis("bottom").labelText.startswith("epoch")
    plot.clear_curves()  # a new training run plots against the step again
    assert plot.getPlotItem().getAxis("bottom").labelText == "step" and len(plot.series("total")[0]) == 0


def test_the_codebook_fits_its_dock_at_a_full_window_size(qtbot, window, make_tiny_model, digits_test):
    """The codebook view fills its dock's visible area instead of growing to its preferred height
    (which pushed the grid down and cut the code-map editor off)."""
    window.show()
    window.resize(1600, 1000)
    window.session.set_model(make_tiny_model("vqvae"), "digits", digits_test)
    qtbot.waitUntil(lambda: window.codebook_view.isVisible())
    QApplication.processEvents()
    scroll = window.codebook_dock.widget()
    view = window.codebook_view
    assert view.height() <= scroll.viewport().height() and not scroll.verticalScrollBar().isVisible()
    bottom = view.map_plots.mapTo(view, view.map_plots.rect().bottomLeft()).y()
    assert bottom <= view.height()


def test_the_training_warm_up_waits_for_the_first_paint(qtbot, window, make_tiny_model, digits_test):
    """The warm-up import holds the GIL for about a second: it must not compete with building and
    first painting the window, and it does start once the window has painted."""
    window.session.set_model(make_tiny_model("ae"), "digits", digits_test)
    QApplication.processEvents()
    assert not window.warm_up._started
    window.show()
    qtbot.waitUntil(lambda: window.warm_up._started, timeout=3000)  # well before the 5 s fallback
    window.warm_up.join()
    assert not window.warm_up.is_alive()


def test_continued_training_keeps_the_history_and_save_never_overwrites_a_pretrained_file(qtbot, tmp_path, digits_checkpoint):
    """Open a pretrained model, tick Continue, train, Ctrl+S: the shipped file stays as it was measured (Save
    asks for a new name), and the new file has the whole history (epochs numbered on) and where it came from."""
    from aeviewer.training.checkpoint import load_checkpoint, save_checkpoint

    trained = tmp_path / "trained"
    trained.mkdir()
    original = load_checkpoint(digits_checkpoint)
    pretrained = save_checkpoint(trained / "ae-digits.safetensors", original.model, dataset="digits",
                                 history=original.history, metrics={"psnr_db": 12.5}, extra={"command": "aeviewer train x"})
    before = pretrained.read_bytes()
    window = create_main_window(None, trained_dir=trained)
    window.errors = []
    window.show_error = lambda title, text: window.errors.append(text)
    qtbot.addWidget(window)
    assert window.open_model(pretrained)
    panel = window.training_panel
    panel.train_threads = 1
    panel.continue_box.setChecked(True)
    panel.epochs.setValue(2)
    with qtbot.waitSignal(panel.trainingFinished, timeout=60_000):
        assert panel.start()
    assert "(trained, not saved)" in window.windowTitle()
    asked = []
    window.ask_save_path = lambda caption="", filter="", name="": asked.append(name) or str(tmp_path / "mine")
    saved = window.save_model()
    assert asked == ["ae-digits-trained.safetensors"] and saved == tmp_path / "mine.safetensors"
    assert pretrained.read_bytes() == before and not window.errors
    assert "(trained, not saved)" not in window.windowTitle() and "mine.safetensors" in window.windowTitle()
    again = load_checkpoint(saved)
    assert [r["epoch"] for r in again.history] == [1, 2, 3, 4]
    assert again.history[:2] == original.history
    assert again.extra["continued_from"]["command"] == "aeviewer train x" and again.extra["status"] == "finished"
    assert again.metrics == {}  # the old metrics measured the weights before this run
    assert window.save_model() == saved and asked == ["ae-digits-trained.safetensors"]  # now plain Save


def test_every_control_of_every_view_has_a_tooltip(window):
    """Buttons, boxes, sliders and fields in the training panel and the four views (Qt's own inner parts,
    such as a spin box's line edit or a tab bar's scroll arrows, excepted)."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider

    views = [window.training_panel, window.latent_view, window.decoder_canvas, window.codebook_view,
             window.denoise_view]
    qt_parts = {"ScrollLeftButton", "ScrollRightButton"}
    missing = [f"{type(view).__name__}.{control.objectName() or type(control).__name__}"
               for view in views
               for kind in (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider, QLineEdit)
               for control in view.findChildren(kind)
               if not control.toolTip() and not control.objectName().startswith("qt_")
               and control.objectName() not in qt_parts]
    assert missing == []


def test_the_denoise_view_fits_a_1280_wide_window_without_scrolling_sideways(qtbot, window, digits_checkpoint):
    """A laptop screen: the summary and the drawing's hint wrap instead of pushing 'Draw your own' off the dock."""
    from PySide6.QtWidgets import QScrollArea

    window.open_model(digits_checkpoint)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    scroll = window.findChild(QScrollArea, "denoiseDockScroll")
    qtbot.waitUntil(lambda: scroll.viewport().width() > 0, timeout=2000)
    assert window.denoise_view.minimumSizeHint().width() <= scroll.viewport().width()
    assert scroll.horizontalScrollBar().maximum() == 0


def test_a_first_run_gives_the_scatter_more_height_than_the_bottom_docks(qtbot, digits_checkpoint):
    """The bottom docks' size hint asked for 440 px: a 720-px window left the scatter under 200 px. On a first
    run (no saved layout) they take about a third of the height; a saved layout is kept as it was."""
    window = make_window(qtbot, digits_checkpoint)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    from aeviewer.gui.window.main_window import BOTTOM_DOCK_SHARE

    want = max(int(BOTTOM_DOCK_SHARE * window.height()), window.denoise_dock.minimumSizeHint().height())
    qtbot.waitUntil(lambda: abs(window.denoise_dock.height() - want) <= 2, timeout=2000)
    assert window.centralWidget().height() > window.denoise_dock.height()
    window.resizeDocks([window.denoise_dock], [420], Qt.Orientation.Vertical)  # the user's own choice
    QApplication.processEvents()
    chosen = window.denoise_dock.height()
    again = reopened(qtbot, window, digits_checkpoint)
    assert abs(again.denoise_dock.height() - chosen) <= 2


def reopened(qtbot, window: MainWindow, model_path) -> MainWindow:
    """``window``'s layout saved and the window closed, then a new 1280x720 window shown (it restores the layout)."""
    window.save_settings()
    window.close()
    again = make_window(qtbot, model_path)
    again.resize(1280, 720)
    again.show()
    qtbot.waitExposed(again)
    qtbot.wait(50)
    return again


def test_reset_layout_undoes_a_saved_layout_that_squeezed_and_closed_docks(qtbot, digits_checkpoint, monkeypatch):
    from PySide6.QtCore import QRect

    from aeviewer.gui.startup import screen_fit

    # a screen the 1280x720 window fits (offscreen's is 800x800): Reset layout keeps a window that fits its size
    monkeypatch.setattr(screen_fit, "available_geometry", lambda widget=None: QRect(0, 0, 1600, 1000))
    window = make_window(qtbot, digits_checkpoint)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    first_width = window.decoder_dock.width()
    # squeezed (to a sliver, below USEFUL_DOCK_PX, it would be reset at the next start by itself)
    window.resizeDocks([window.decoder_dock], [200], Qt.Orientation.Horizontal)
    window.training_dock.close()
    again = reopened(qtbot, window, digits_checkpoint)
    assert again.training_dock.isHidden() and again.decoder_dock.width() < first_width / 2  # the saved layout came back
    assert again.reset_layout_action in again.menuBar().actions()[2].menu().actions()  # View › Reset layout
    again.reset_layout_action.trigger()
    qtbot.wait(50)
    assert not again.training_dock.isHidden()
    assert abs(again.decoder_dock.width() - first_width) <= 0.1 * first_width
    assert again.codebook_dock.isHidden()  # a digits AE has no codebook: reset does not show its dock
