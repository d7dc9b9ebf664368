"""Pictures of the tutorial3 state machine: graphviz (through transitions' graph extension), mermaid, text."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Literal

from .tutorial3 import CONDITION, LED_MODES, STATES, TRANSITIONS, machine_kwargs

FORMATS = ("png", "svg", "mermaid", "text")
# What each state does, shown next to it.
STATE_NOTES: dict[str, str] = {
    "booting": "left for sleeping once the nodes exist",
    "sleeping": "sensors quiet, state every 900 s, no check",
    "reporting": "polls on, check every timer_delay",
    "ringing": "state and overheat polled 3x as often, check every timer_delay / 2",
}


def note(state: str) -> str:
    return f"LED {LED_MODES[state]}; {STATE_NOTES[state]}"


class GraphUnavailable(Exception):
    """No graphviz binding (python `graphviz` or `pygraphviz`) is installed."""


Engine = Literal["graphviz", "pygraphviz", "mermaid"]


def graphviz_engine() -> Engine | None:
    """The graph engine transitions can use here: "graphviz", "pygraphviz" or None."""
    if importlib.util.find_spec("graphviz") is not None:
        return "graphviz"
    if importlib.util.find_spec("pygraphviz") is not None:
        return "pygraphviz"
    return None


def default_format() -> str:
    return "png" if graphviz_engine() is not None else "mermaid"


def _edges() -> list[tuple[str, str, str]]:
    """(source, dest, label) for every transition, wildcard sources expanded."""
    out = []
    for t in TRANSITIONS:
        label = t.trigger + (f" [{CONDITION}]" if t.needs_nodes else "")
        for source in t.sources or STATES:
            out.append((source, t.dest, label))
    return out


def mermaid() -> str:
    """A mermaid stateDiagram of the machine (renders on GitHub, GitLab and mermaid.live)."""
    lines = ["---", "title: tutorial3", "---", "stateDiagram-v2", f"    [*] --> {STATES[0]}"]
    for source, dest, label in _edges():
        lines.append(f"    {source} --> {dest}: {label}")
    for state in STATES:
        lines.append(f"    note right of {state}: {note(state)}")
    return "\n".join(lines) + "\n"


def text() -> str:
    """The transition table and what each state does, as plain text."""
    rows = [("trigger", "source", "dest", "condition")]
    rows += [(t.trigger, t.source_text, t.dest, CONDITION if t.needs_nodes else "-") for t in TRANSITIONS]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append("")
    lines.append(f"initial state: {STATES[0]}")
    width = max(len(s) for s in STATES)
    lines += [f"{s.ljust(width)}  {note(s)}" for s in STATES]
    return "\n".join(lines) + "\n"


def draw(path: Path, fmt: str) -> Path:
    """Draw the machine to `path` as png or svg with transitions' graph extension (graphviz needed)."""
    engine = graphviz_engine()
    if engine is None:
        raise GraphUnavailable(
            f"{fmt} needs graphviz: pip install graphviz (and apt-get install graphviz), "
            "or use --format mermaid or text"
        )
    from transitions.extensions import GraphMachine

    model = SimpleNamespace(nodes_ready=lambda *a: True)
    GraphMachine(
        model=model, graph_engine=engine, title="tutorial3", show_conditions=True, **machine_kwargs()
    )
    model.get_graph().draw(str(path), format=fmt, prog="dot")
    return path
