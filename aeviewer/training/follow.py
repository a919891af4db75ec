"""Following a run that another process writes (a cluster job's checkpoint, copied or mounted here): whose run
it is and how old its latest epoch is, from the checkpoint's records. No Qt: the window's follower shows it."""
from __future__ import annotations

from typing import Any


def age_text(seconds: float) -> str:
    """"just now", "45 s ago", "3 min ago", "2 h 5 min ago", "3 days ago"."""
    seconds = max(0.0, seconds)
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:.0f} min ago"
    return f"{seconds // 86400:.0f} days ago"


def run_summary(extra: dict[str, Any], history: list[dict[str, Any]], written_at: float, now: float) -> str:
    """"alice@node3's run on 4 ranks · epoch 5 of 20 · latest epoch 3 min ago": what a follow panel says."""
    user, host = str(extra.get("user") or ""), str(extra.get("host") or "")
    who = f"{user}@{host}" if user and host else user or host or "an unknown machine"
    ranks = extra.get("world_size")
    on = f" on {ranks} ranks" if isinstance(ranks, int) and ranks > 1 else ""
    train = extra.get("train") if isinstance(extra.get("train"), dict) else {}
    total = train.get("epochs")
    done = len(history)
    epochs = f"epoch {done} of {total}" if isinstance(total, int) else f"{done} epoch{'s' if done != 1 else ''}"
    status = extra.get("status")
    state = " · finished" if status == "finished" else " · stopped" if status in ("stopped", "failed") else ""
    return f"{who}'s run{on} · {epochs}{state} · latest epoch {age_text(now - written_at)}"
