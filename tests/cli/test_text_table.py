"""Text tables are written without tabulate when every cell is plain Latin-1 text, and the text is the same."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from janitoo_cli import render
from janitoo_cli.render import NODE_COLUMNS, VALUE_COLUMNS, Table, node_record, text_table, value_record
from janitoo_protocol import Hadd, NodeInfo, ValueInfo

# Latin-1 text (°C, µs...) with spaces anywhere, and now and then what tabulate treats its own way:
# surrounding whitespace, wide and combining characters, ANSI colours, tabs, numbers and booleans as text.
plain = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=8)
odd = st.sampled_from(["  padded  ", "\t", "日本", "e\u0301", "\x1b[31mred\x1b[0m", "1.50", "True", "None",
                       "-0", "nan", "", " ", "a|b", "| x", "x |", "\u00a0nbsp", "x\u200b", "soft\u00adhyphen",
                       "°C", "\x85", "€"])  # fmt: skip
cells = plain | odd
headers = st.lists(
    st.sampled_from(["hadd", "uuid", "idx", "data", "help", "a b", " lead"]), min_size=1, max_size=5
)


@settings(max_examples=500, deadline=None)
@given(headers.flatmap(lambda h: st.tuples(st.just(h), st.lists(st.lists(cells, min_size=len(h),
                                                                          max_size=len(h)), max_size=6))))  # fmt: skip
def test_the_direct_layout_is_tabulates(table: tuple[list[str], list[list[str]]]) -> None:
    heads, rows = table
    direct = render._plain_table(heads, rows)
    if direct is not None:  # taken only when it is sure to agree
        assert direct == render._tabulate(heads, rows)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(plain.filter(lambda c: c == c.strip() and c.isprintable()), min_size=3, max_size=3),
             min_size=1, max_size=6)
)  # fmt: skip
def test_printable_latin1_tables_take_the_direct_way(rows: list[list[str]]) -> None:
    assert render._plain_table(["a", "bb", "ccc"], rows) is not None


def test_a_cell_tabulate_would_treat_its_own_way_goes_to_tabulate() -> None:
    for odd_cell in ("  padded", "日本", "\x1b[31mred\x1b[0m", "tab\there", "x ", " x", "\u00a0x", "€"):
        assert render._plain_table(["h"], [["ok"], [odd_cell]]) is None


def test_nodes_and_values_as_jnt_prints_them() -> None:
    nodes = [NodeInfo(hadd=Hadd(225, n), uuid=f"node{n}", name=f"Node {n}", location="Living room",
                      product_type="Default") for n in range(3)]  # fmt: skip
    values = [ValueInfo("temperature", hadd=Hadd(225, 1), data=21.5, units="°C", help="The temperature"),
              ValueInfo("switch", hadd=Hadd(225, 2), data=True, list_items=["on", "off"], help="On, off"),
              ValueInfo("location", hadd=Hadd(225, 2), data="Salon", help=None)]  # fmt: skip
    for columns, rows in ((NODE_COLUMNS, [node_record(n) for n in nodes]),
                          (VALUE_COLUMNS, [value_record(v) for v in values]),
                          (VALUE_COLUMNS, [value_record(v) for v in values[1:]])):  # fmt: skip
        table = Table(columns, rows)
        cells = [[render.cell(r.get(c)) for c in columns] for r in rows]
        assert text_table(table) == render._tabulate(list(columns), cells)
