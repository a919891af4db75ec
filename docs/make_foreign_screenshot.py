"""docs/foreign-model.png: the shaped-latent example (4x8x8 latent, emoji) in the window, under Xvfb.

    xvfb-run -a -s '-screen 0 1600x1000x24' python docs/make_foreign_screenshot.py [--steps 150]
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from PySide6.QtWidgets import QApplication  # noqa: E402

import shaped_latent  # noqa: E402

window = shaped_latent.main([*sys.argv[1:], "--no-block"])
window.resize(1500, 920)
window.set_current_point(window.session.latents[120])
for _ in range(50):
    QApplication.processEvents()
window.grab().save(str(HERE / "foreign-model.png"))
window.close()
print(f"wrote {HERE / 'foreign-model.png'}")
