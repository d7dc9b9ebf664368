"""The network as an SVG picture: each controller with its nodes on rings around it, coloured by state."""

from __future__ import annotations

import math
from html import escape
from typing import Any

RING = 12  # nodes on the first ring; each further ring holds 6 more
R_CONTROLLER = 13
R_NODE = 7


def _ring_positions(count: int) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    ring, radius = 0, 34.0
    while len(out) < count:
        per = RING + 6 * ring
        take = min(per, count - len(out))
        for k in range(take):
            a = -math.pi / 2 + 2 * math.pi * k / take
            out.append((radius * math.cos(a), radius * math.sin(a)))
        ring += 1
        radius += 18
    return out


def _node(
    row: dict[str, Any],
    x: float,
    y: float,
    r: int,
    label: bool = False,
    away: tuple[float, float] = (0.0, 1.0),
) -> str:
    hadd = row["hadd"]
    state = row["state"]
    title = f"{hadd} {row['name']} ({state})"
    text = ""
    if label:
        # Outward from the controller, so the label sits clear of the node's link.
        lx, ly = x + away[0] * (r + 9), y + away[1] * (r + 9) + 3
        text = (
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" class="pic-num">{escape(hadd[5:])}</text>'
        )

    href = f"/node/{hadd}"
    return (
        f'<a href="{escape(href)}" class="pic-node" data-hadd="{escape(hadd)}">'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" class="st-{escape(state)}">'
        f"<title>{escape(title)}</title></circle>{text}</a>"
    )


def network_svg(rows: list[dict[str, Any]]) -> str:
    """The picture of `rows` (node rows of the view): every text escaped here."""
    groups: dict[str, list[dict[str, Any]]] = {}
    controllers: dict[str, dict[str, Any]] = {}
    for row in rows:
        ctrl = row["hadd"][:4]
        if row["controller"]:
            controllers[ctrl] = row
        else:
            groups.setdefault(ctrl, []).append(row)
    names = sorted(set(groups) | set(controllers))
    if not names:
        return '<svg xmlns="http://www.w3.org/2000/svg" class="picture" viewBox="0 0 300 60" role="img" aria-label="No node yet"><text x="150" y="35" text-anchor="middle">No node yet</text></svg>'
    rings = max((len(_ring_positions(len(groups.get(n, [])))) for n in names), default=0)
    extent = 34 + 18 * _rings_needed(rings) + R_NODE + 26
    cell = 2 * extent
    cols = max(1, min(len(names), math.ceil(math.sqrt(len(names) * 1.6))))
    rows_n = math.ceil(len(names) / cols)
    height = rows_n * (cell + 16)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="picture" viewBox="0 0 {cols * cell} {height}" width="{cols * cell * 2}" role="img" '
        f'aria-label="{len(names)} controllers and their nodes, coloured by state">'
    ]
    for i, name in enumerate(names):
        cx = (i % cols) * cell + extent
        cy = (i // cols) * (cell + 16) + extent
        parts.append(f'<g class="pic-ctrl" data-ctrl="{escape(name)}">')
        for dx, dy in _ring_positions(len(groups.get(name, []))):
            parts.append(
                f'<line x1="{cx}" y1="{cy}" x2="{cx + dx:.1f}" y2="{cy + dy:.1f}" class="pic-link"/>'
            )
        for row, (dx, dy) in zip(
            groups.get(name, []), _ring_positions(len(groups.get(name, []))), strict=True
        ):
            norm = math.hypot(dx, dy) or 1.0
            parts.append(
                _node(row, cx + dx, cy + dy, R_NODE, len(groups[name]) <= RING, (dx / norm, dy / norm))
            )
        ctrl_row = controllers.get(name) or {"hadd": f"{name}/0000", "name": "", "state": "UNKNOWN"}
        parts.append(_node(ctrl_row, cx, cy, R_CONTROLLER))
        parts.append(
            f'<text x="{cx}" y="{cy + extent + 8}" text-anchor="middle" class="pic-label">{escape(name)}</text>'
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _rings_needed(count: int) -> int:
    ring, held = 0, 0
    while held < count:
        held += RING + 6 * ring
        ring += 1
    return max(ring - 1, 0)
